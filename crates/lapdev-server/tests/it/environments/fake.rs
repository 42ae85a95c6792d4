//! A kube-manager stand-in for the environment tests, on the real tunnel
//! (a real WebSocket on loopback, the protocol crate's frames): it answers
//! `apply_environment`, `delete_namespace` and `get_environment_status`
//! as scripted, records what it was asked ([`Seen`]: generations, paused
//! flags, namespaces, Secret value *keys*), pushes `environment_status`
//! frames, heartbeats like the real one, and can disconnect and reconnect.
//!
//! The script and the record belong to the [`Fake`] cluster and survive
//! reconnects; one connection is a [`Link`]. Tests await the record (a
//! watch channel) and the server's acknowledgement of pushed frames, never
//! a timer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lapdev_tunnel_proto::{
    ApplyEnvironment, ClientFrame, EnvironmentApplied, EnvironmentPhase, EnvironmentStatus,
    Heartbeat, ReplicasPolicy, Request, Response, SecretValues, ServerFrame, TUNNEL_PATH,
    TunnelError, decode_server_frame, encode_client_frame,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::PATIENCE;
use crate::TestServer;

/// The warning every successful apply reports.
pub(crate) const APPLY_WARNING: &str = "fake: nothing really runs here";

/// One request the fake received, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seen {
    Apply(Applied),
    /// `delete_namespace` of this namespace.
    Delete(String),
    /// `get_environment_status` of this namespace.
    Status(String),
}

/// What an `apply_environment` carried. `Debug` shows Secret value keys
/// only (see [`SecretValues`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Applied {
    pub(crate) generation: u64,
    pub(crate) namespace: String,
    pub(crate) environment_id: String,
    pub(crate) environment: String,
    pub(crate) paused: bool,
    pub(crate) replicas: ReplicasPolicy,
    pub(crate) objects: usize,
    pub(crate) secret_values: SecretValues,
}

impl Applied {
    fn from_request(a: &ApplyEnvironment) -> Applied {
        Applied {
            generation: a.generation,
            namespace: a.namespace.clone(),
            environment_id: a.environment.id.clone(),
            environment: a.environment.name.clone(),
            paused: a.paused,
            replicas: a.replicas,
            objects: a.objects.len(),
            secret_values: a.secret_values.clone(),
        }
    }

    /// `secret/key` of every Secret value sent, sorted.
    pub(crate) fn secret_keys(&self) -> Vec<String> {
        self.secret_values
            .0
            .iter()
            .flat_map(|(s, keys)| keys.keys().map(move |k| format!("{s}/{k}")))
            .collect()
    }
}

/// How the fake answers one request.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Ok,
    Fail(TunnelError),
    /// Never answers (the server's request times out or fails when the
    /// connection ends).
    Silent,
}

struct Script {
    /// Answers to the next applies, in order; then [`Answer::Ok`].
    apply: VecDeque<Answer>,
    delete: Answer,
    /// The phase `get_environment_status` reports.
    phase: EnvironmentPhase,
}

struct Inner {
    script: Mutex<Script>,
    seen: watch::Sender<Vec<Seen>>,
}

/// The fake cluster: its script and what it was asked, across connections.
#[derive(Clone)]
pub(crate) struct Fake {
    inner: Arc<Inner>,
}

impl Fake {
    pub(crate) fn new() -> Fake {
        Fake {
            inner: Arc::new(Inner {
                script: Mutex::new(Script {
                    apply: VecDeque::new(),
                    delete: Answer::Ok,
                    phase: EnvironmentPhase::Deleted,
                }),
                seen: watch::Sender::new(Vec::new()),
            }),
        }
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.inner.script.lock().unwrap()
    }

    /// The next applies get these answers (then `Ok` again).
    pub(crate) fn script_apply(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script().apply.extend(answers);
    }

    pub(crate) fn answer_delete(&self, answer: Answer) {
        self.script().delete = answer;
    }

    /// The phase `get_environment_status` reports from now on.
    pub(crate) fn report_phase(&self, phase: EnvironmentPhase) {
        self.script().phase = phase;
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.inner.seen.borrow().clone()
    }

    /// Every apply received for `namespace`, in order.
    pub(crate) fn applies(&self, namespace: &str) -> Vec<Applied> {
        applies(&self.seen(), namespace)
    }

    /// Waits (bounded) until the record satisfies `done`.
    pub(crate) async fn wait_for(&self, what: &str, mut done: impl FnMut(&[Seen]) -> bool) {
        let mut rx = self.inner.seen.subscribe();
        let waited = tokio::time::timeout(PATIENCE, rx.wait_for(|seen| done(seen))).await;
        assert!(
            waited.is_ok(),
            "the fake kube-manager never saw {what}; it saw {:#?}",
            self.seen()
        );
    }

    /// Waits for the `n`-th (from 1) apply of `generation` to `namespace`.
    pub(crate) async fn wait_apply(&self, namespace: &str, generation: u64, n: usize) -> Applied {
        let what = format!("apply #{n} of generation {generation} to {namespace}");
        let of_generation = |seen: &[Seen]| -> Vec<Applied> {
            applies(seen, namespace)
                .into_iter()
                .filter(|a| a.generation == generation)
                .collect()
        };
        self.wait_for(&what, |seen| of_generation(seen).len() >= n)
            .await;
        of_generation(&self.seen()).swap_remove(n - 1)
    }

    fn record(&self, seen: Seen) {
        self.inner.seen.send_modify(|all| all.push(seen));
    }

    /// The answer to one request, or `None` to stay silent.
    fn answer(&self, request: Request) -> Option<Result<Response, TunnelError>> {
        let reply = |answer: Answer, ok: Response| match answer {
            Answer::Ok => Some(Ok(ok)),
            Answer::Fail(e) => Some(Err(e)),
            Answer::Silent => None,
        };
        match request {
            Request::ApplyEnvironment(a) => {
                self.record(Seen::Apply(Applied::from_request(&a)));
                let answer = self.script().apply.pop_front().unwrap_or(Answer::Ok);
                let applied = EnvironmentApplied {
                    observed_generation: a.generation,
                    applied: vec![],
                    pruned: vec![],
                    warnings: vec![APPLY_WARNING.into()],
                };
                reply(answer, Response::EnvironmentApplied(applied))
            }
            Request::DeleteNamespace { namespace } => {
                self.record(Seen::Delete(namespace));
                let answer = self.script().delete.clone();
                reply(answer, Response::Deleted)
            }
            Request::GetEnvironmentStatus(g) => {
                self.record(Seen::Status(g.namespace.clone()));
                let phase = self.script().phase;
                Some(Ok(Response::EnvironmentStatus(EnvironmentStatus {
                    namespace: g.namespace,
                    environment_id: None,
                    observed_generation: None,
                    phase,
                    workloads: vec![],
                })))
            }
            other => Some(Err(TunnelError::invalid(format!(
                "not expected in these tests: {}",
                other.kind()
            )))),
        }
    }

    /// Connects to `t` with the cluster token and completes the handshake.
    pub(crate) async fn connect(&self, t: &TestServer, token: &str) -> Link {
        let url = format!("{}{TUNNEL_PATH}", t.server.url().replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the tunnel upgrades");
        let hello = ClientFrame::Hello(crate::tunnel::hello());
        ws.send(Message::text(encode_client_frame(&hello).unwrap()))
            .await
            .unwrap();
        let welcome = loop {
            let msg = tokio::time::timeout(PATIENCE, ws.next())
                .await
                .expect("a welcome in time");
            match msg {
                Some(Ok(Message::Text(text))) => match decode_server_frame(text.as_str()) {
                    Ok(ServerFrame::Welcome(w)) => break w,
                    other => panic!("expected a welcome, got {other:?}"),
                },
                Some(Ok(_)) => continue,
                other => panic!("the tunnel closed during the handshake: {other:?}"),
            }
        };
        let every = Duration::from_secs(welcome.heartbeat_interval_secs.max(1).into());
        let (commands, rx) = mpsc::channel(16);
        let task = tokio::spawn(run(ws, self.clone(), rx, every));
        Link { commands, task }
    }
}

fn applies(seen: &[Seen], namespace: &str) -> Vec<Applied> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Apply(a) if a.namespace == namespace => Some(a.clone()),
            _ => None,
        })
        .collect()
}

enum Command {
    /// Send the frame, then a heartbeat; answer once it is acknowledged.
    Push(Box<ClientFrame>, oneshot::Sender<()>),
    Close,
}

/// One live connection of the fake.
pub(crate) struct Link {
    commands: mpsc::Sender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl Link {
    /// Sends `frame` and returns once the server has handled it (it reads
    /// a session's frames in order, and acknowledges the heartbeat sent
    /// right after it).
    pub(crate) async fn push(&self, frame: ClientFrame) {
        let (done, handled) = oneshot::channel();
        self.commands
            .send(Command::Push(Box::new(frame), done))
            .await
            .expect("the link is up");
        tokio::time::timeout(PATIENCE, handled)
            .await
            .expect("the server acknowledged in time")
            .expect("the link stayed up");
    }

    pub(crate) async fn report(&self, status: EnvironmentStatus) {
        self.push(ClientFrame::EnvironmentStatus(status)).await;
    }

    /// Closes the connection (the server then marks the cluster offline).
    pub(crate) async fn close(self) {
        let _ = self.commands.send(Command::Close).await;
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the link closed in time")
            .unwrap();
    }

    /// Waits for the server to end the connection (e.g. its shutdown).
    pub(crate) async fn closed(self) {
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server closed the link in time")
            .unwrap();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn run(ws: Ws, fake: Fake, mut commands: mpsc::Receiver<Command>, every: Duration) {
    let (mut sink, mut stream) = ws.split();
    let mut seq = 0u64;
    let mut acked: HashMap<u64, oneshot::Sender<()>> = HashMap::new();
    let mut heartbeat = tokio::time::interval(every);
    let frame = |f: &ClientFrame| Message::text(encode_client_frame(f).unwrap());
    let beat = |seq: u64| {
        frame(&ClientFrame::Heartbeat(Heartbeat {
            seq,
            sent_at_unix_ms: 0,
        }))
    };
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => match decode_server_frame(text.as_str()) {
                    Ok(ServerFrame::Request { id, request }) => {
                        if let Some(result) = fake.answer(request) {
                            let response = frame(&ClientFrame::Response { id, result });
                            if sink.send(response).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(ServerFrame::HeartbeatAck(ack)) => {
                        if let Some(done) = acked.remove(&ack.seq) {
                            let _ = done.send(());
                        }
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            command = commands.recv() => match command {
                Some(Command::Push(pushed, done)) => {
                    seq += 1;
                    if sink.send(frame(&pushed)).await.is_err()
                        || sink.send(beat(seq)).await.is_err()
                    {
                        return;
                    }
                    acked.insert(seq, done);
                }
                Some(Command::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    // Read until the server's close frame (or the end).
                    while let Ok(Some(Ok(msg))) = tokio::time::timeout(PATIENCE, stream.next()).await {
                        if matches!(msg, Message::Close(_)) {
                            break;
                        }
                    }
                    return;
                }
            },
            _ = heartbeat.tick() => {
                seq += 1;
                if sink.send(beat(seq)).await.is_err() {
                    return;
                }
            }
        }
    }
}
