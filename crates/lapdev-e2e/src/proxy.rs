//! A TCP proxy on loopback whose connections a test can cut, to break a
//! tunnel without stopping either end.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Forwards every connection to `target` until dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    /// Cancelling it closes every current connection; [`TcpProxy::cut`]
    /// replaces it so new connections go through again.
    current: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let current = Arc::new(Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (cur, st, tr) = (current.clone(), stop.clone(), tasks.clone());
        tasks.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    () = st.cancelled() => return,
                };
                let Ok((inbound, _)) = accepted else { continue };
                let cut = cur.lock().expect("proxy lock").clone();
                let st = st.clone();
                tr.spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    forward(inbound, outbound, cut, st).await;
                });
            }
        });
        TcpProxy {
            addr,
            current,
            stop,
            tasks,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every open connection at once; new ones are accepted.
    pub fn cut(&self) {
        let mut current = self.current.lock().expect("proxy lock");
        current.cancel();
        *current = CancellationToken::new();
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tasks.close();
    }
}

async fn forward(
    mut inbound: TcpStream,
    mut outbound: TcpStream,
    cut: CancellationToken,
    stop: CancellationToken,
) {
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        () = cut.cancelled() => {}
        () = stop.cancelled() => {}
    }
    // Dropping both streams closes them.
}
