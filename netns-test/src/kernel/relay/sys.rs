//! The system calls of the relay: packet sockets with a `virtio_net_hdr` on every frame, batched
//! receive (`recvmmsg`), `epoll`, a `timerfd` on the monotonic clock and an `eventfd` to stop.
//!
//! Every `unsafe` block of the relay is here, each with its `SAFETY:` line.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::libc;

/// `PACKET_VNET_HDR`: each frame carries a `struct virtio_net_hdr` (10 bytes) in front, with
/// its segmentation offload and checksum state, both ways.
const PACKET_VNET_HDR: libc::c_int = 15;
/// `PACKET_IGNORE_OUTGOING`: the socket does not see the frames sent through its interface.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// Asked for as the receive buffer; the kernel caps it at `net.core.rmem_max` for a process
/// without `CAP_NET_ADMIN` over the host (which a user namespace never has).
const RECEIVE_BUFFER: libc::c_int = 8 << 20;

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// Takes ownership of a new fd.
fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `fd` was just returned by the kernel, is open, and nothing else owns it.
    check(fd).map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_option<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is valid for reads of its size for the duration of the call.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    check(result).map(drop)
}

/// A packet socket bound to interface `ifindex` of the calling thread's namespace, for every
/// protocol, non-blocking, with the 10 bytes of a `virtio_net_hdr` in front of every frame.
///
/// Made with protocol 0 (it receives nothing) and given `ETH_P_ALL` only when bound, so that it
/// never sees frames of another interface.
pub(super) fn packet_socket(ifindex: u32) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call; the fd is owned at once.
    let socket = owned(unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    })?;
    let fd = socket.as_fd_ref();
    set_option(fd, libc::SOL_PACKET, PACKET_VNET_HDR, &1 as &libc::c_int)?;
    set_option(
        fd,
        libc::SOL_PACKET,
        PACKET_IGNORE_OUTGOING,
        &1 as &libc::c_int,
    )?;
    // Best effort: the kernel caps it silently, and a failure only leaves the default.
    let _ = set_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RECEIVE_BUFFER)
        .or_else(|_| set_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RECEIVE_BUFFER));
    let _ = set_option(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &RECEIVE_BUFFER)
        .or_else(|_| set_option(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, &RECEIVE_BUFFER));
    // SAFETY: an all-zero `sockaddr_ll` is a valid value, filled in below.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = ifindex as i32;
    // SAFETY: `address` is a valid `sockaddr_ll` of the size given.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const address).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(socket)
}

/// `as_fd` without importing the trait at every call.
trait AsFdRef {
    fn as_fd_ref(&self) -> BorrowedFd<'_>;
}

impl AsFdRef for OwnedFd {
    fn as_fd_ref(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self)
    }
}

/// Receive buffers for `recvmmsg`: `count` slots of `size` bytes, reused for every batch.
pub(super) struct Batch {
    buffers: Vec<u8>,
    size: usize,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers in `iovecs` and `headers` point into `buffers` and `iovecs`, which
// this value owns; nothing is shared with another thread.
unsafe impl Send for Batch {}

impl Batch {
    pub(super) fn new(count: usize, size: usize) -> Batch {
        let mut buffers = vec![0u8; count * size];
        let base = buffers.as_mut_ptr();
        let mut iovecs: Vec<libc::iovec> = (0..count)
            .map(|i| libc::iovec {
                // SAFETY: `i * size` is inside `buffers`.
                iov_base: unsafe { base.add(i * size) }.cast(),
                iov_len: size,
            })
            .collect();
        let iov = iovecs.as_mut_ptr();
        let headers = (0..count)
            .map(|i| {
                // SAFETY: an all-zero `mmsghdr` is valid (no name, no control data).
                let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
                // SAFETY: `i < count`, inside `iovecs`, which never moves (its length is fixed).
                header.msg_hdr.msg_iov = unsafe { iov.add(i) };
                header.msg_hdr.msg_iovlen = 1;
                header
            })
            .collect();
        Batch {
            buffers,
            size,
            iovecs,
            headers,
        }
    }

    /// Receives what `socket` has, up to one slot per frame, without waiting. Returns how many
    /// frames came (0 if none); [`frame`](Self::frame) then gives each, with whether it was
    /// cut short.
    pub(super) fn receive(&mut self, socket: BorrowedFd<'_>) -> io::Result<usize> {
        for header in &mut self.headers {
            header.msg_hdr.msg_flags = 0;
            header.msg_len = 0;
        }
        debug_assert_eq!(self.iovecs.len(), self.headers.len());
        // SAFETY: every header points at its own iovec and buffer slot of `size` bytes, all
        // owned by `self` and borrowed mutably for the call.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                self.headers.len() as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            let error = io::Error::last_os_error();
            return match error.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(error),
            };
        }
        Ok(received as usize)
    }

    /// Frame `i` of the last batch (its `virtio_net_hdr` first), or `None` if it did not fit.
    pub(super) fn frame(&mut self, i: usize) -> Option<&mut [u8]> {
        let header = &self.headers[i];
        let len = header.msg_len as usize;
        if header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 || len > self.size {
            return None;
        }
        Some(&mut self.buffers[i * self.size..i * self.size + len])
    }
}

/// Sends one frame (its `virtio_net_hdr` first) out of the interface `socket` is bound to.
pub(super) fn send(socket: BorrowedFd<'_>, frame: &[u8]) -> io::Result<()> {
    // SAFETY: `frame` is valid for reads of its length.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The monotonic clock, in nanoseconds: the clock of [`Timer`].
pub(super) fn now_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is valid for writes; `CLOCK_MONOTONIC` always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// A `timerfd` on the monotonic clock, armed for an absolute time.
pub(super) struct Timer(OwnedFd);

impl Timer {
    pub(super) fn new() -> io::Result<Timer> {
        // SAFETY: a plain system call; the fd is owned at once.
        owned(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })
        .map(Timer)
    }

    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd_ref()
    }

    /// Fires at `at_ns` on [`now_ns`]'s clock; `None` disarms it.
    pub(super) fn set(&self, at_ns: Option<u64>) -> io::Result<()> {
        let at = at_ns.unwrap_or(0);
        let value = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (at / 1_000_000_000) as libc::time_t,
                tv_nsec: (at % 1_000_000_000) as libc::c_long,
            },
        };
        // An absolute time of zero would disarm it; 1 ns is long past, so fires at once.
        let mut value = value;
        if at_ns.is_some() && at == 0 {
            value.it_value.tv_nsec = 1;
        }
        // SAFETY: `value` is valid for reads; no old value is asked for.
        check(unsafe {
            libc::timerfd_settime(
                self.0.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &value,
                std::ptr::null_mut(),
            )
        })
        .map(drop)
    }

    /// Reads the expirations, so that the fd is no longer readable.
    pub(super) fn clear(&self) {
        drain_counter(self.fd());
    }
}

/// Reads the 8-byte counter of a `timerfd` or `eventfd`; nothing if it is zero.
fn drain_counter(fd: BorrowedFd<'_>) {
    let mut count = 0u64;
    // SAFETY: `count` is valid for writes of 8 bytes.
    unsafe { libc::read(fd.as_raw_fd(), (&raw mut count).cast(), 8) };
}

/// An `eventfd`: one thread wakes another's `epoll` with it.
#[derive(Debug)]
pub(super) struct Event(OwnedFd);

impl Event {
    pub(super) fn new() -> io::Result<Event> {
        // SAFETY: a plain system call; the fd is owned at once.
        owned(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }).map(Event)
    }

    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd_ref()
    }

    pub(super) fn signal(&self) {
        let one = 1u64;
        // SAFETY: `one` is valid for reads of 8 bytes.
        unsafe { libc::write(self.0.as_raw_fd(), (&raw const one).cast(), 8) };
    }

    pub(super) fn clear(&self) {
        drain_counter(self.fd());
    }
}

/// An `epoll` instance; each fd is registered with a `u64` token.
pub(super) struct Poll(OwnedFd);

impl Poll {
    pub(super) fn new() -> io::Result<Poll> {
        // SAFETY: a plain system call; the fd is owned at once.
        owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }).map(Poll)
    }

    /// Wakes [`wait`](Self::wait) with `token` whenever `fd` is readable.
    pub(super) fn add(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `event` is valid for the call; the kernel keeps its own copy.
        check(unsafe {
            libc::epoll_ctl(
                self.0.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        })
        .map(drop)
    }

    /// Waits until something is readable; fills `tokens` with what is.
    pub(super) fn wait(&self, tokens: &mut Vec<u64>) -> io::Result<()> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        // SAFETY: `events` is valid for writes of 64 entries.
        let count = unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), 64, -1) };
        tokens.clear();
        if count < 0 {
            let error = io::Error::last_os_error();
            return if error.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(error)
            };
        }
        tokens.extend(events[..count as usize].iter().map(|event| event.u64));
        Ok(())
    }
}

/// `IORING_REGISTER_FILES`: the ring takes a reference to each file in the array.
const IORING_REGISTER_FILES: libc::c_uint = 2;

/// A ring that holds the last references to a set of sockets once their own fds are closed,
/// so that closing it releases them in a kernel worker: see [`Releaser::new`].
pub(super) struct Releaser(OwnedFd);

impl Releaser {
    /// Has a new `io_uring` take a reference to each of `sockets`, or `None` if the kernel
    /// lets this process make no ring (`kernel.io_uring_disabled`).
    ///
    /// Releasing a packet socket waits for an RCU grace period (`synchronize_net` in
    /// `packet_release`, 10 to 16 ms here), in whichever task drops the last reference, and a
    /// process's exit closes its files one after the other. Here the last references go to a
    /// ring that is never used for any I/O: its files are registered
    /// (`IORING_REGISTER_FILES`) when the sockets are opened, so that [`release`](Self::release)
    /// only closes fds: the sockets' own (cheap: not the last reference), then the ring's,
    /// whose teardown the kernel runs in a worker of its own, which drops the sockets there.
    /// Nothing waits for it; the sockets stop receiving once the relay's namespace goes away
    /// with its links, as they would have.
    pub(super) fn new(sockets: &[OwnedFd]) -> Option<Releaser> {
        // `struct io_uring_params`, 120 bytes, all zero: no flags, the kernel fills in the rest.
        let mut params = [0u64; 15];
        // SAFETY: `params` is valid for reads and writes of the 120 bytes the kernel uses.
        let ring = unsafe {
            libc::syscall(
                libc::SYS_io_uring_setup,
                1 as libc::c_uint,
                params.as_mut_ptr(),
            )
        };
        let ring = owned(ring as libc::c_int).ok()?;
        let fds: Vec<libc::c_int> = sockets.iter().map(AsRawFd::as_raw_fd).collect();
        // SAFETY: `fds` is valid for reads of `fds.len()` ints; the ring takes its own
        // references.
        let registered = unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                ring.as_raw_fd(),
                IORING_REGISTER_FILES,
                fds.as_ptr(),
                fds.len() as libc::c_uint,
            )
        };
        (registered >= 0).then_some(Releaser(ring))
    }

    /// Closes `sockets`, which the ring holds, and the ring, without waiting for the kernel's
    /// release of the sockets.
    pub(super) fn release(self, sockets: Vec<OwnedFd>) {
        drop(sockets);
        drop(self.0);
    }
}
