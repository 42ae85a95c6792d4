//! Captures everything the server logs at TRACE level during a test, so
//! tests can prove that secrets never reach the log.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

/// The captured log. Keep the value alive for the whole test: dropping it
/// uninstalls the subscriber.
pub(crate) struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: DefaultGuard,
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Installs a TRACE subscriber for the current thread. Use it from a
    /// current-thread runtime, so every task of the test runs on this thread.
    pub(crate) fn start() -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Writer(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // Callsites cache whether anyone is interested in them, across all
        // threads. One first hit on another test's thread, before this
        // subscriber existed, could leave it disabled here: recompute.
        tracing::callsite::rebuild_interest_cache();
        Self {
            buffer,
            _guard: guard,
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.buffer.lock().unwrap().clone()).unwrap()
    }
}
