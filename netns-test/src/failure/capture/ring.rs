//! A packet socket with a receive ring (`PACKET_RX_RING`, `TPACKET_V3`): every frame of the
//! network namespace it was opened in, copied by the kernel into memory shared with this
//! process.
//!
//! # Why a ring
//!
//! A plain packet socket queues a reference to each frame, charged to its receive buffer, which
//! an unprivileged process cannot raise above `net.core.rmem_max` (about 200 KiB). veth hands
//! TCP segments of up to 64 KiB to packet sockets as single frames, so a bulk transfer fills
//! that buffer with a handful of frames, and the capture loses half of a 20 MiB transfer
//! (measured here). A ring is memory of its own, as large as asked for, that the kernel fills
//! block by block while the reader empties blocks it has been handed.
//!
//! # Why this module has `unsafe`
//!
//! The ring is a memory mapping shared with the kernel, so reading it is pointer arithmetic
//! over memory the kernel writes concurrently, synchronised by a status word per block (the
//! protocol of `Documentation/networking/packet_mmap.rst`): a block belongs to this process
//! from the moment its status has `TP_STATUS_USER` until the process writes
//! `TP_STATUS_KERNEL` back. It lives here, beside the capture, rather than in `sys.rs`, because
//! it is one self-contained data structure with a safe interface: [`Ring::open`],
//! [`Ring::drain`], [`Ring::drops`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering, fence};

use nix::libc;

/// One frame as the ring holds it.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    /// The interface it went through.
    pub ifindex: u32,
    /// It left through the interface (`PACKET_OUTGOING`), rather than arrived.
    pub outgoing: bool,
    /// When the kernel saw it, in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// Its bytes from the Ethernet header on, perhaps cut short.
    pub data: &'a [u8],
    /// Its whole length.
    pub original_len: u32,
}

/// A packet socket for every protocol with its receive ring mapped.
#[derive(Debug)]
pub(crate) struct Ring {
    socket: OwnedFd,
    map: NonNull<u8>,
    block_size: usize,
    block_count: usize,
    /// The block the kernel hands over next.
    next: usize,
}

// SAFETY: the mapping belongs to this value alone; nothing in it is tied to a thread.
unsafe impl Send for Ring {}

/// `PACKET_OUTGOING`, the packet type of a frame sent by this namespace.
const PACKET_OUTGOING: u8 = 4;

impl Ring {
    /// A ring of `block_count` blocks of `block_size` bytes (a multiple of the page size, larger
    /// than any frame) in the calling thread's network namespace. A partly filled block is
    /// handed over after `retire_ms` at the latest.
    pub(crate) fn open(block_size: usize, block_count: usize, retire_ms: u32) -> io::Result<Ring> {
        let protocol = i32::from((libc::ETH_P_ALL as u16).to_be());
        // SAFETY: plain system calls with valid arguments; the returned fd is owned at once.
        let socket = unsafe {
            let fd = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            );
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_option(&socket, libc::PACKET_VERSION, &version)?;
        let frame_size = 2048;
        let request = libc::tpacket_req3 {
            tp_block_size: block_size as u32,
            tp_block_nr: block_count as u32,
            // Frames are of any size in a V3 block; the kernel only checks this arithmetic.
            tp_frame_size: frame_size,
            tp_frame_nr: (block_size * block_count) as u32 / frame_size,
            tp_retire_blk_tov: retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_option(&socket, libc::PACKET_RX_RING, &request)?;
        let len = block_size * block_count;
        // SAFETY: maps the ring the kernel just made for this socket; checked below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                socket.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring {
            socket,
            map: NonNull::new(map.cast()).ok_or_else(|| io::Error::other("mmap gave null"))?,
            block_size,
            block_count,
            next: 0,
        })
    }

    /// The socket, to poll: it is readable when the kernel has handed a block over.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Calls `each` for every frame of the blocks the kernel has handed over, in order, and
    /// gives the blocks back. Returns whether the block the kernel fills now holds frames
    /// (which it hands over within the retire timeout).
    pub(crate) fn drain(&mut self, mut each: impl FnMut(Frame<'_>)) -> bool {
        loop {
            let block = self.block(self.next);
            // SAFETY: `block` points at a block header inside the mapping, which the kernel
            // keeps 8-byte aligned; its status word is only accessed atomically.
            let status = unsafe { status_word(block) }.load(Ordering::Acquire);
            if status & libc::TP_STATUS_USER == 0 {
                // Still the kernel's: say whether it has started filling it.
                // SAFETY: as above; `num_pkts` is the word after the status.
                let pending = unsafe { count_word(block) }.load(Ordering::Relaxed);
                return pending > 0;
            }
            // SAFETY: the block is ours until its status is written back; every offset read
            // from it was written by the kernel and stays inside the block.
            unsafe { self.read_block(block, &mut each) };
            fence(Ordering::Release);
            // SAFETY: as above.
            unsafe { status_word(block) }.store(libc::TP_STATUS_KERNEL, Ordering::Release);
            self.next = (self.next + 1) % self.block_count;
        }
    }

    /// How many frames the kernel could not put in the ring since the last call.
    pub(crate) fn drops(&self) -> io::Result<u32> {
        let mut stats = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are valid for writes of the size given.
        let result = unsafe {
            libc::getsockopt(
                self.socket.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &mut len,
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stats.tp_drops)
    }

    fn block(&self, index: usize) -> *mut u8 {
        // SAFETY: `index < block_count`, so the offset stays inside the mapping.
        unsafe { self.map.as_ptr().add(index * self.block_size) }
    }

    /// Reads every frame of a block handed over by the kernel.
    ///
    /// # Safety
    ///
    /// `block` must be a block of this ring whose status has `TP_STATUS_USER`.
    unsafe fn read_block(&self, block: *mut u8, each: &mut impl FnMut(Frame<'_>)) {
        // SAFETY: the caller hands over a block the kernel has finished with; the header and
        // every frame header are within it, at offsets the kernel wrote.
        unsafe {
            let header = &(*block.cast::<libc::tpacket_block_desc>()).hdr.bh1;
            let mut frame = block.add(header.offset_to_first_pkt as usize);
            for _ in 0..header.num_pkts {
                let meta = &*frame.cast::<libc::tpacket3_hdr>();
                let address = &*frame
                    .add(libc::TPACKET_ALIGN(size_of::<libc::tpacket3_hdr>()))
                    .cast::<libc::sockaddr_ll>();
                let end = frame.add(meta.tp_mac as usize + meta.tp_snaplen as usize);
                if end > block.add(self.block_size) {
                    // Cannot happen; stop rather than read outside the block.
                    return;
                }
                each(Frame {
                    ifindex: address.sll_ifindex as u32,
                    outgoing: address.sll_pkttype == PACKET_OUTGOING,
                    timestamp_ns: u64::from(meta.tp_sec) * 1_000_000_000 + u64::from(meta.tp_nsec),
                    data: std::slice::from_raw_parts(
                        frame.add(meta.tp_mac as usize),
                        meta.tp_snaplen as usize,
                    ),
                    original_len: meta.tp_len,
                });
                frame = frame.add(meta.tp_next_offset as usize);
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `open`, which nothing borrows any more.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.block_size * self.block_count);
        }
    }
}

/// The status word of a block.
///
/// # Safety
///
/// `block` must point at a block header of a live ring.
unsafe fn status_word<'a>(block: *mut u8) -> &'a AtomicU32 {
    // SAFETY: `block_status` is the first field of `tpacket_hdr_v1`, 8 bytes into the block
    // header and so 4-byte aligned; the kernel and this process both access it as a whole word.
    unsafe { AtomicU32::from_ptr(block.add(8).cast()) }
}

/// The number of frames in a block (`num_pkts`, the word after the status).
///
/// # Safety
///
/// As [`status_word`].
unsafe fn count_word<'a>(block: *mut u8) -> &'a AtomicU32 {
    // SAFETY: as in `status_word`, four bytes further.
    unsafe { AtomicU32::from_ptr(block.add(12).cast()) }
}

fn set_option<T>(socket: &OwnedFd, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` is valid for reads of its size.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
