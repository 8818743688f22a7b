//! NAT behaviour discovery in the manner of RFC 5780, hole punching and port-forward probes:
//! what a suite runs to show that a NAT maps and filters as its type says.
//!
//! Every helper returns what it observed and lets the test assert; a helper panics only when
//! the setup is broken (a server that never answers the first request, a port already bound).
//! Every wait is bounded: a request is sent [`TRIES`] times, [`TRY_WAIT`] apart.
//!
//! # The servers
//!
//! [`BehaviourServer`] has four UDP sockets and four TCP listeners: on the primary node's and on
//! the alternate node's address (two nodes, since a node has one address on a link), each on
//! [`PORTS`]. Every socket is made in its node (a socket keeps the namespace it was made in);
//! the UDP sockets are served by one thread each, the TCP listeners of a node by one thread
//! started in that node, and each TCP connection by a thread that one starts (so in the same
//! node: a thread starts in its creator's network namespace), so that the connections made
//! back start there too. Dropping the server raises a stop flag every thread reads at least
//! every 50 ms, and joins them all.
//!
//! [`Rendezvous`] is one UDP socket where peers register and learn each other's endpoint as the
//! server saw it (the public endpoint, behind a NAT).
//!
//! # The protocol (text, one request a datagram or a line, our own; not STUN's encoding)
//!
//! UDP, to any of the four sockets:
//! - `NTB1 <txid> <same|port|addr|both>`: answer from the same socket, from the other port of
//!   the same address, from the other address on the same port, or from the other address and
//!   port;
//! - answer `NTB1 <txid> <mapped> <answering>`: the source the server saw, and the socket that
//!   answers (both `ip:port`). The client drops answers of another `txid`, so a late answer to
//!   one test is never taken for the answer of the next.
//!
//! TCP, lines on a connection to any of the four listeners, each answered by one line:
//! - `MAPPED` answered `MAPPED <ip:port>`: the source of this connection as the server saw it;
//! - `CALLBACK <port|addr> <ip:port>`: connect to that endpoint from the listener's own address
//!   and a new port (`port`), or from the other node's address and a new port (`addr`), write
//!   `NTB1 callback` on that connection, and answer `CALLBACK ok` or `CALLBACK failed <why>`
//!   on the first connection once the callback connected or gave up (after [`CALLBACK_WAIT`]).
//!
//! Rendezvous, UDP: `NTR1 REGISTER <name>` answered `NTR1 SEEN <name> <ip:port>`; `NTR1 LOOKUP
//! <name>` answered `NTR1 PEER <name> <ip:port>` or `NTR1 UNKNOWN <name>`. Peers send each other
//! `NTP1 PUNCH <from>` and answer `NTP1 ACK <from>`; the hairpin probe sends `NTP1 HAIRPIN
//! <from>`. Port-forward servers answer `NTF1 SAW <ip:port>`.
//!
//! # Timings
//!
//! A UDP test that gets its answer takes one round trip; one that never does takes
//! `TRIES * TRY_WAIT` = 450 ms. Mapping tests are answered by the socket asked, which any NAT
//! lets through; so a UDP discovery takes a few milliseconds with EIF, and about 0.9 s at most
//! (two filtering tests unanswered) with APDF. A TCP filtering test waits at most
//! [`CALLBACK_WAIT`] for the callback, then [`ACCEPT_WAIT`] for it to be accepted; so a TCP
//! discovery takes tens of milliseconds with EIF, and at most about 1.2 s when no callback gets
//! in (each of the two times out at 400 ms, then is not accepted in 200 ms).
//!
//! # With a NAT
//!
//! Servers on the outside, the client behind the NAT; the NAT's type names what discovery
//! must report (`Preset::behaviour`), and its outside address is the mapped address:
//!
//! ```text
//! #[netns_test(topology = "switch internet; {home stun alt} -- internet; client -- home
//!                          nat home [outside=internet, type=symmetric]")]
//! fn a_symmetric_nat_is_discovered_as_apdm_apdf(net: &Net) {
//!     let server = BehaviourServer::start(net, "stun", "alt");
//!     let found = discover_udp(net, "client", &server);
//!     assert_eq!((found.mapping, found.filtering), (APDM, APDF));
//!     assert_eq!(*found.mapped.ip(), address_facing(net, "home", "stun"));
//! }
//! ```
//!
//! # Files
//!
//! - `server`: [`BehaviourServer`], the discovery server;
//! - `discover`: [`discover_udp`] and [`discover_tcp`], the client's side;
//! - `punch`: [`Rendezvous`], [`punch`] and [`hairpin`];
//! - `forward`: [`udp_forward`], [`tcp_forward`] and [`address_facing`];
//! - `ask`: one UDP request, retried, which all of them use.

use std::time::Duration;

mod ask;
mod discover;
mod forward;
mod punch;
mod server;

pub use discover::{
    Discovered, DiscoveryOptions, discover_tcp, discover_tcp_with, discover_udp, discover_udp_with,
};
pub use forward::{Forwarded, address_facing, tcp_forward, udp_forward};
pub use punch::{Hairpin, Punch, Rendezvous, hairpin, punch};
pub use server::{BehaviourServer, ServerAddrs};

/// The two ports of each server address.
pub const PORTS: [u16; 2] = [3478, 3479];
/// The rendezvous server's UDP port.
pub const RENDEZVOUS_PORT: u16 = 3480;
/// How many times a UDP request is sent before the helper says no answer came.
pub const TRIES: u32 = 3;
/// How long each try waits for its answer.
pub const TRY_WAIT: Duration = Duration::from_millis(150);
/// How long the server tries to connect back to a client (TCP filtering).
pub const CALLBACK_WAIT: Duration = Duration::from_millis(400);
/// How long the client waits, once the server said the callback connected, to accept it.
pub const ACCEPT_WAIT: Duration = Duration::from_millis(200);
/// How long two peers punch, at most.
pub const PUNCH_TIME: Duration = Duration::from_secs(1);
/// How often a punching peer sends.
pub const PUNCH_EVERY: Duration = Duration::from_millis(30);
/// How often a server thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);
