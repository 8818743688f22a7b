//! The behaviour-discovery server: four UDP sockets and four TCP listeners on two nodes.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use netns_test::Net;

use super::{CALLBACK_WAIT, PORTS, STOP_POLL};

/// The addresses of a [`BehaviourServer`]: primary and alternate, each on [`PORTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerAddrs {
    pub primary: Ipv4Addr,
    pub alternate: Ipv4Addr,
}

impl ServerAddrs {
    /// Socket `node` (0 primary, 1 alternate), port `port` (index into [`PORTS`]).
    pub fn endpoint(&self, node: usize, port: usize) -> SocketAddrV4 {
        let ip = if node == 0 {
            self.primary
        } else {
            self.alternate
        };
        SocketAddrV4::new(ip, PORTS[port])
    }
}

/// A behaviour-discovery server on two nodes; stops and joins its threads when dropped.
#[derive(Debug)]
pub struct BehaviourServer {
    addrs: ServerAddrs,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A job for a node's TCP thread: connect to `to`, say how it went on `reply`.
type Callback = (SocketAddrV4, mpsc::Sender<String>);

impl BehaviourServer {
    /// Starts the server on `primary` and `alternate` (their first IPv4 address), [`PORTS`].
    ///
    /// # Panics
    ///
    /// If a port cannot be bound there.
    pub fn start(net: &Net, primary: &str, alternate: &str) -> BehaviourServer {
        let addrs = ServerAddrs {
            primary: net.node(primary).ip(),
            alternate: net.node(alternate).ip(),
        };
        let names = [primary, alternate];
        let stop = Arc::new(AtomicBool::new(false));
        let mut udp = Vec::new();
        for (n, name) in names.iter().enumerate() {
            for p in 0..2 {
                let at = addrs.endpoint(n, p);
                let socket = net.node(name).run(|| UdpSocket::bind(at));
                let socket =
                    socket.unwrap_or_else(|e| panic!("cannot bind UDP {at} in {name}: {e}"));
                socket
                    .set_read_timeout(Some(STOP_POLL))
                    .expect("read timeout");
                udp.push(socket);
            }
        }
        let udp = Arc::new(udp);
        let mut threads = Vec::new();
        for index in 0..4 {
            let (udp, stop) = (Arc::clone(&udp), Arc::clone(&stop));
            threads.push(thread::spawn(move || serve_udp(&udp, index, &stop)));
        }
        let (primary_jobs, primary_rx) = mpsc::channel::<Callback>();
        let (alternate_jobs, alternate_rx) = mpsc::channel::<Callback>();
        let receivers = [primary_rx, alternate_rx];
        for (n, (name, jobs)) in names.iter().zip(receivers).enumerate() {
            let listeners: Vec<TcpListener> = (0..2)
                .map(|p| {
                    let at = addrs.endpoint(n, p);
                    let listener = net.node(name).run(|| TcpListener::bind(at));
                    let listener =
                        listener.unwrap_or_else(|e| panic!("cannot bind TCP {at} in {name}: {e}"));
                    listener
                        .set_nonblocking(true)
                        .expect("nonblocking listener");
                    listener
                })
                .collect();
            let other = if n == 0 {
                alternate_jobs.clone()
            } else {
                primary_jobs.clone()
            };
            let stop = Arc::clone(&stop);
            threads.push(
                net.node(name)
                    .spawn(move || serve_tcp(&listeners, &jobs, &other, &stop)),
            );
        }
        BehaviourServer {
            addrs,
            stop,
            threads,
        }
    }

    /// Its addresses.
    pub fn addrs(&self) -> ServerAddrs {
        self.addrs
    }
}

impl Drop for BehaviourServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            // A panic in a server thread shows in the test's output already.
            let _ = thread.join();
        }
    }
}

/// Serves UDP socket `index` (node `index / 2`, port `index % 2`) until `stop`.
fn serve_udp(sockets: &[UdpSocket], index: usize, stop: &AtomicBool) {
    let mut buffer = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = sockets[index].recv_from(&mut buffer) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..len]);
        let mut words = text.split_whitespace();
        let (Some("NTB1"), Some(txid), Some(change)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let (node, port) = (index / 2, index % 2);
        let (node, port) = match change {
            "same" => (node, port),
            "port" => (node, 1 - port),
            "addr" => (1 - node, port),
            "both" => (1 - node, 1 - port),
            _ => continue,
        };
        let answering = &sockets[node * 2 + port];
        let Ok(std::net::SocketAddr::V4(at)) = answering.local_addr() else {
            continue;
        };
        let answer = format!("NTB1 {txid} {from} {at}");
        let _ = answering.send_to(answer.as_bytes(), from);
    }
}

/// Serves one node's TCP listeners and the callbacks asked of it, until `stop`. Each connection
/// gets a thread, started from this one so that it is in the same node (a thread starts in its
/// creator's network namespace) and its callbacks connect from there.
fn serve_tcp(
    listeners: &[TcpListener],
    jobs: &mpsc::Receiver<Callback>,
    other: &mpsc::Sender<Callback>,
    stop: &Arc<AtomicBool>,
) {
    let mut connections = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut idle = true;
        for listener in listeners {
            if let Ok((stream, std::net::SocketAddr::V4(from))) = listener.accept() {
                idle = false;
                let (other, stop) = (other.clone(), Arc::clone(stop));
                connections.push(thread::spawn(move || {
                    let _ = answer_tcp(stream, from, &other, &stop);
                }));
            }
        }
        while let Ok((to, reply)) = jobs.try_recv() {
            idle = false;
            let _ = reply.send(call_back(to));
        }
        if idle {
            thread::sleep(Duration::from_millis(5));
        }
    }
    for connection in connections {
        let _ = connection.join();
    }
}

/// Answers the lines of one TCP connection from `from`, until it ends or `stop`.
fn answer_tcp(
    stream: TcpStream,
    from: SocketAddrV4,
    other: &mpsc::Sender<Callback>,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(STOP_POLL))?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with('\n') => {}
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        }
        let answer = answer_line(&line, from, other);
        line.clear();
        (&stream).write_all(format!("{answer}\n").as_bytes())?;
    }
    Ok(())
}

/// The answer to one request line of a TCP connection from `from`.
fn answer_line(line: &str, from: SocketAddrV4, other: &mpsc::Sender<Callback>) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words[..] {
        ["MAPPED"] => format!("MAPPED {from}"),
        ["CALLBACK", how, to] => {
            let Ok(to) = to.parse::<SocketAddrV4>() else {
                return "ERROR a bad endpoint".into();
            };
            let outcome = match how {
                "port" => call_back(to),
                "addr" => {
                    let (reply, outcome) = mpsc::channel();
                    let _ = other.send((to, reply));
                    outcome
                        .recv_timeout(CALLBACK_WAIT * 2)
                        .unwrap_or_else(|_| "failed the other node did not answer".into())
                }
                _ => "failed unknown callback".into(),
            };
            format!("CALLBACK {outcome}")
        }
        _ => "ERROR unknown request".into(),
    }
}

/// Connects to `to` from this thread's node, a new port; `ok` or `failed <why>`.
fn call_back(to: SocketAddrV4) -> String {
    match TcpStream::connect_timeout(&to.into(), CALLBACK_WAIT) {
        Ok(mut stream) => match stream.write_all(b"NTB1 callback\n") {
            Ok(()) => "ok".into(),
            Err(e) => format!("failed {e}"),
        },
        Err(e) => format!("failed {e}"),
    }
}
