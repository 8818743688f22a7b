//! One UDP request, sent again until its answer comes or the tries run out.

use std::net::{SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::{TRIES, TRY_WAIT};

/// A transaction id no other request of this process has.
pub(super) fn txid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sends `request` to `to` up to [`TRIES`] times and returns the first answer whose words start
/// with `expect`, from anywhere; `None` if none came in `TRIES * TRY_WAIT`.
pub(super) fn ask(
    socket: &UdpSocket,
    to: SocketAddrV4,
    request: &str,
    expect: &[&str],
) -> Option<String> {
    let mut buffer = [0u8; 512];
    for _ in 0..TRIES {
        // `send_to` on a connected socket still goes to `to` (Linux lets it name the peer).
        let _ = socket.send_to(request.as_bytes(), to);
        let deadline = Instant::now() + TRY_WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left)).expect("read timeout");
            let Ok(len) = socket.recv(&mut buffer) else {
                break;
            };
            let text = String::from_utf8_lossy(&buffer[..len]).into_owned();
            if text.split_whitespace().zip(expect).all(|(a, b)| a == *b)
                && text.split_whitespace().count() > expect.len()
            {
                return Some(text);
            }
        }
    }
    None
}
