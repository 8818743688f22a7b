//! The relay's thread: one per test, inside the hidden namespace, moving frames between the
//! packet sockets of every relayed link and holding delayed ones in a heap until they are due.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use super::impair::{self, Direction, Fate, LossState, Random};
use super::sys::{self, Batch, Event, Poll, Releaser, Timer};

/// Frames received in one `recvmmsg`.
const BATCH: usize = 32;
/// The largest frame: a 64 KiB segmentation-offload frame, its Ethernet header and the
/// `virtio_net_hdr`, rounded up.
const FRAME_MAX: usize = 65_536 + 256;
/// Batches read from one socket before the others get their turn.
const BATCHES_PER_TURN: usize = 8;
/// Frames held per direction; more are dropped and counted (netem's default is 1000 packets;
/// this is larger because a frame here can be a whole offloaded TCP burst or one small packet).
const QUEUE_LIMIT: usize = 10_000;

/// The epoll tokens of the stop event and the timer; socket `i` has `FIRST_SOCKET + i`.
const STOP: u64 = 0;
const TIMER: u64 = 1;
const FIRST_SOCKET: u64 = 2;

/// What the relay has done since it started: for the benchmark and the failure report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Frames sent on (each copy of a duplicate counts).
    pub(crate) relayed: u64,
    /// Frames dropped because a setting said so (`loss=`, or `corrupt=` on an offloaded burst).
    pub(crate) dropped: u64,
    /// Frames the relay lost by itself: too large, a full queue, or a failed send.
    pub(crate) lost: u64,
}

/// The state the test's threads share with the relay's.
#[derive(Debug)]
struct Shared {
    /// Per relayed link, its directions `[a to b, b to a]`.
    settings: Mutex<Vec<[Direction; 2]>>,
    /// Bumped at every change of `settings`.
    generation: AtomicU64,
    stop: AtomicBool,
    wake: Event,
    relayed: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
}

/// The running relay of one test; dropping it stops the thread.
#[derive(Debug)]
pub(crate) struct Relay {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The hidden namespace, kept for as long as the relay runs.
    _namespace: OwnedFd,
}

/// The relay's ends `(a, b)` of each link, and the relay's namespace if the thread is not in it.
type Links = (Vec<(u32, u32)>, Option<OwnedFd>);

/// The relay's thread before it relays: it makes the relay's namespace (`setup`, given by the
/// caller) while the caller builds the rest of the network, then waits for the links to
/// relay. Dropping it stops the thread.
#[derive(Debug)]
pub(crate) struct Starting {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    links: Option<mpsc::Sender<Links>>,
    ready: mpsc::Receiver<io::Result<()>>,
}

impl Starting {
    /// Starts the thread, which runs `setup` at once and sends what it returns on the
    /// receiver. `setup` is what puts the thread in the relay's namespace (a namespace of its
    /// own, made by `unshare`), where it stays and opens its sockets later, unless the caller
    /// made the namespace and gives it to [`start`](Self::start).
    pub(crate) fn spawn<T: Send + 'static>(
        setup: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<(Starting, mpsc::Receiver<T>)> {
        let shared = Arc::new(Shared {
            settings: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            wake: Event::new()?,
            relayed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        });
        let (setup_tx, setup_rx) = mpsc::channel();
        let (links_tx, links_rx) = mpsc::channel::<Links>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("netns-relay".to_string())
            .spawn(move || {
                let _ = setup_tx.send(setup());
                let Ok((links, namespace)) = links_rx.recv() else {
                    return;
                };
                match enter(namespace).and_then(|()| Engine::new(&thread_shared, &links)) {
                    Ok(mut engine) => {
                        let _ = ready_tx.send(Ok(()));
                        engine.run(&thread_shared);
                        engine.close();
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            })?;
        let starting = Starting {
            shared,
            thread: Some(thread),
            links: Some(links_tx),
            ready: ready_rx,
        };
        Ok((starting, setup_rx))
    }

    /// Has the thread open and bind a packet socket on each of the interfaces `(a, b)` of
    /// each link (the relay's own ends, facing a and b, which must exist and be up), with
    /// `settings` per link, after entering `namespace` (the relay's) if `setup` did not put it
    /// there; [`finish`](Self::finish) waits until it has.
    pub(crate) fn start(
        &mut self,
        links: Vec<(u32, u32)>,
        settings: Vec<[Direction; 2]>,
        namespace: Option<OwnedFd>,
    ) {
        *self
            .shared
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = settings;
        if let Some(sender) = &self.links {
            let _ = sender.send((links, namespace));
        }
    }

    /// Waits until every socket is open and bound: the relay then runs, for as long as the
    /// returned value lives and keeps `namespace`.
    pub(crate) fn finish(mut self, namespace: OwnedFd) -> io::Result<Relay> {
        match self.ready.recv() {
            Ok(Ok(())) => Ok(Relay {
                shared: Arc::clone(&self.shared),
                thread: self.thread.take(),
                _namespace: namespace,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other(
                "the relay thread ended before it was ready",
            )),
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.signal();
        drop(self.links.take());
        let _ = thread.join();
    }
}

impl Relay {
    /// Gives relayed link `link` new directions, from the next frame on.
    pub(crate) fn set(&self, link: usize, directions: [Direction; 2]) {
        let mut settings = self
            .shared
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        settings[link] = directions;
        self.shared.generation.fetch_add(1, Ordering::Release);
        self.shared.wake.signal();
    }

    /// What the relay has done so far.
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            relayed: self.shared.relayed.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            lost: self.shared.lost.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.signal();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Moves the calling thread into `namespace` for good, if there is one.
fn enter(namespace: Option<OwnedFd>) -> io::Result<()> {
    match namespace {
        Some(namespace) => crate::kernel::netns::enter(namespace.as_fd()).map_err(io::Error::from),
        None => Ok(()),
    }
}

/// A frame waiting to be sent.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    /// When it is due, on [`sys::now_ns`]'s clock; then the order of arrival.
    due: u64,
    seq: u64,
    /// The socket it leaves by.
    out: usize,
    frame: Vec<u8>,
}

/// The thread's own state.
struct Engine {
    sockets: Vec<OwnedFd>,
    /// Holds the sockets for their release after the test, if the kernel gives a ring.
    releaser: Option<Releaser>,
    poll: Poll,
    timer: Timer,
    batch: Batch,
    heap: BinaryHeap<Reverse<Queued>>,
    /// Frames in the heap per outgoing socket.
    queued: Vec<usize>,
    seq: u64,
    /// The thread's copy of the settings, and the generation it was copied at.
    settings: Vec<[Direction; 2]>,
    generation: u64,
    /// Per socket, the loss state of the direction it receives.
    loss: Vec<LossState>,
    random: Random,
    /// The timer is set for this time.
    armed: Option<u64>,
}

impl Engine {
    fn new(shared: &Shared, links: &[(u32, u32)]) -> io::Result<Engine> {
        let mut sockets = Vec::with_capacity(links.len() * 2);
        for &(a, b) in links {
            sockets.push(sys::packet_socket(a)?);
            sockets.push(sys::packet_socket(b)?);
        }
        let releaser = Releaser::new(&sockets);
        let poll = Poll::new()?;
        let timer = Timer::new()?;
        poll.add(shared.wake.fd(), STOP)?;
        poll.add(timer.fd(), TIMER)?;
        for (i, socket) in sockets.iter().enumerate() {
            poll.add(socket.as_fd(), FIRST_SOCKET + i as u64)?;
        }
        let settings = shared
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let seed = sys::now_ns() ^ (u64::from(std::process::id()) << 32);
        Ok(Engine {
            queued: vec![0; sockets.len()],
            loss: vec![LossState::default(); sockets.len()],
            sockets,
            releaser,
            poll,
            timer,
            batch: Batch::new(BATCH, FRAME_MAX),
            heap: BinaryHeap::new(),
            seq: 0,
            settings,
            generation: shared.generation.load(Ordering::Acquire),
            random: Random::new(seed),
            armed: None,
        })
    }

    fn run(&mut self, shared: &Shared) {
        let mut tokens = Vec::with_capacity(64);
        loop {
            self.send_due(shared);
            let next = self.heap.peek().map(|Reverse(q)| q.due);
            if next != self.armed && self.timer.set(next).is_ok() {
                self.armed = next;
            }
            if self.poll.wait(&mut tokens).is_err() {
                return;
            }
            for &token in &tokens {
                match token {
                    STOP => {
                        shared.wake.clear();
                        if shared.stop.load(Ordering::Acquire) {
                            return;
                        }
                    }
                    TIMER => {
                        self.timer.clear();
                        self.armed = None;
                    }
                    socket => self.receive(shared, (socket - FIRST_SOCKET) as usize),
                }
            }
        }
    }

    /// Closes the packet sockets without making the test wait for it, through the ring that
    /// holds them and drops them in the kernel's own time (see [`Releaser::new`]); where the
    /// kernel gives no ring, all at once: closing one waits for an RCU grace period in the
    /// kernel (`synchronize_net` in `packet_release`, 10 to 16 ms here), and one thread per
    /// socket makes them wait for the same one rather than one after the other.
    fn close(self) {
        if let Some(releaser) = self.releaser {
            releaser.release(self.sockets);
            return;
        }
        std::thread::scope(|scope| {
            for socket in self.sockets {
                scope.spawn(move || drop(socket));
            }
        });
    }

    /// Takes up the settings if they changed.
    fn refresh(&mut self, shared: &Shared) {
        let generation = shared.generation.load(Ordering::Acquire);
        if generation != self.generation {
            let settings = shared.settings.lock().unwrap_or_else(|e| e.into_inner());
            self.settings.clone_from(&settings);
            self.generation = generation;
        }
    }

    /// Sends every frame that is due.
    fn send_due(&mut self, shared: &Shared) {
        let now = sys::now_ns();
        while self.heap.peek().is_some_and(|Reverse(q)| q.due <= now) {
            let Some(Reverse(queued)) = self.heap.pop() else {
                break;
            };
            self.queued[queued.out] -= 1;
            send(shared, self.sockets[queued.out].as_fd(), &queued.frame);
        }
    }

    /// Reads what socket `from` has and gives each frame its fate.
    fn receive(&mut self, shared: &Shared, from: usize) {
        self.refresh(shared);
        let (link, side) = (from / 2, from % 2);
        let out = from ^ 1;
        for _ in 0..BATCHES_PER_TURN {
            let count = (self.batch.receive(self.sockets[from].as_fd())).unwrap_or_default();
            let now = sys::now_ns();
            let direction = self.settings[link][side];
            for i in 0..count {
                let Some(frame) = self.batch.frame(i) else {
                    shared.lost.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let (after_ns, copies) =
                    match direction.fate(&mut self.loss[from], &mut self.random) {
                        Fate::Drop => {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Fate::Send { after_ns, copies } => (after_ns, copies),
                    };
                if direction.corrupts(&mut self.random) && !impair::corrupt(frame, &mut self.random)
                {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                for _ in 0..copies {
                    if after_ns == 0 && self.queued[out] == 0 {
                        send(shared, self.sockets[out].as_fd(), frame);
                    } else if self.queued[out] >= QUEUE_LIMIT {
                        shared.lost.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.queued[out] += 1;
                        self.seq += 1;
                        self.heap.push(Reverse(Queued {
                            due: now + after_ns,
                            seq: self.seq,
                            out,
                            frame: frame.to_vec(),
                        }));
                    }
                }
            }
            if count < BATCH {
                break;
            }
        }
    }
}

/// Sends `frame` on `socket`, counting it as relayed or lost.
fn send(shared: &Shared, socket: BorrowedFd<'_>, frame: &[u8]) {
    match sys::send(socket, frame) {
        Ok(()) => shared.relayed.fetch_add(1, Ordering::Relaxed),
        Err(_) => shared.lost.fetch_add(1, Ordering::Relaxed),
    };
}
