//! Writing pcapng, the file format of Wireshark and tshark, for the packet capture.
//!
//! The capture needs three of its blocks: a section header, one interface description per link
//! end (named `node:eth0`, timestamps in nanoseconds) and an enhanced packet block per frame,
//! with the direction of the frame (in or out) as its flags. That is about a hundred lines, so
//! it is written here rather than taken from a crate. Everything is little-endian, which the
//! section header's byte-order magic announces.
//!
//! The reader below the writer is for the tests: it checks that what is written parses back.

/// pcapng block types.
const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 1;
const ENHANCED_PACKET: u32 = 6;

/// The section header's byte-order magic.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// `LINKTYPE_ETHERNET`: every link of a test network is a veth.
const LINKTYPE_ETHERNET: u16 = 1;

/// Option codes.
const OPT_END: u16 = 0;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;

/// Which way a frame went through its interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Inbound,
    Outbound,
}

/// A pcapng file being encoded in memory: the section header and the interfaces first, then
/// packets as they come. [`Writer::take`] hands over what is encoded so far, always whole blocks,
/// so the file can be written out piece by piece and read at the end of any piece.
#[derive(Debug)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// A file with one Ethernet interface per name, numbered in order from 0.
    pub(crate) fn new<'a>(interfaces: impl IntoIterator<Item = &'a str>) -> Writer {
        let mut writer = Writer { out: Vec::new() };
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        // Section length unknown.
        body.extend_from_slice(&(-1i64).to_le_bytes());
        option(&mut body, SHB_USERAPPL, b"netns-test");
        option(&mut body, OPT_END, &[]);
        writer.block(SECTION_HEADER, &body);
        for name in interfaces {
            let mut body = Vec::new();
            body.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            // Snap length 0: frames are not cut.
            body.extend_from_slice(&0u32.to_le_bytes());
            option(&mut body, IF_NAME, name.as_bytes());
            // Timestamps in units of 10^-9 s.
            option(&mut body, IF_TSRESOL, &[9]);
            option(&mut body, OPT_END, &[]);
            writer.block(INTERFACE_DESCRIPTION, &body);
        }
        writer
    }

    /// Appends a frame seen on interface `interface` at `timestamp_ns` (since the Unix epoch),
    /// of which `data` was captured out of `original_len` bytes.
    pub(crate) fn packet(
        &mut self,
        interface: u32,
        timestamp_ns: u64,
        data: &[u8],
        original_len: u32,
        direction: Option<Direction>,
    ) {
        // Written in place rather than through `block`: frames are most of the file.
        let options = if direction.is_some() { 12 } else { 0 };
        let total = (12 + 20 + data.len().next_multiple_of(4) + options) as u32;
        let out = &mut self.out;
        out.reserve(total as usize);
        out.extend_from_slice(&ENHANCED_PACKET.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(&interface.to_le_bytes());
        out.extend_from_slice(&((timestamp_ns >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&(timestamp_ns as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&original_len.to_le_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
        if let Some(direction) = direction {
            let flags: u32 = match direction {
                Direction::Inbound => 1,
                Direction::Outbound => 2,
            };
            option(out, EPB_FLAGS, &flags.to_le_bytes());
            option(out, OPT_END, &[]);
        }
        out.extend_from_slice(&total.to_le_bytes());
    }

    /// The bytes encoded since the last call: whole blocks, to append to the file.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The file's bytes.
    #[cfg(test)]
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn block(&mut self, kind: u32, body: &[u8]) {
        let total = (12 + body.len()) as u32;
        self.out.extend_from_slice(&kind.to_le_bytes());
        self.out.extend_from_slice(&total.to_le_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(&total.to_le_bytes());
    }
}

/// Appends an option: code, length, value padded to 4 bytes.
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

#[cfg(test)]
pub(crate) mod read {
    //! A reader for what [`super::Writer`] writes (little-endian files only).

    use super::*;

    /// A packet read back.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Packet {
        pub interface: u32,
        pub timestamp_ns: u64,
        pub data: Vec<u8>,
        pub original_len: u32,
        pub direction: Option<Direction>,
    }

    /// The interface names and packets of a file.
    #[derive(Debug)]
    pub(crate) struct File {
        pub interfaces: Vec<String>,
        pub packets: Vec<Packet>,
    }

    fn u16_at(bytes: &[u8], at: usize) -> Result<u16, String> {
        let raw = bytes.get(at..at + 2).ok_or("truncated")?;
        Ok(u16::from_le_bytes(raw.try_into().unwrap()))
    }

    fn u32_at(bytes: &[u8], at: usize) -> Result<u32, String> {
        let raw = bytes.get(at..at + 4).ok_or("truncated")?;
        Ok(u32::from_le_bytes(raw.try_into().unwrap()))
    }

    /// The options from `at` to the end of `body`, as `(code, value)`.
    fn options(body: &[u8], mut at: usize) -> Result<Vec<(u16, Vec<u8>)>, String> {
        let mut found = Vec::new();
        while at + 4 <= body.len() {
            let code = u16_at(body, at)?;
            let len = usize::from(u16_at(body, at + 2)?);
            if code == OPT_END {
                break;
            }
            let value = body.get(at + 4..at + 4 + len).ok_or("option overruns")?;
            found.push((code, value.to_vec()));
            at += 4 + len.next_multiple_of(4);
        }
        Ok(found)
    }

    /// Parses a whole file.
    pub(crate) fn parse(bytes: &[u8]) -> Result<File, String> {
        let mut file = File {
            interfaces: Vec::new(),
            packets: Vec::new(),
        };
        let mut at = 0;
        let mut first = true;
        while at < bytes.len() {
            let kind = u32_at(bytes, at)?;
            let total = u32_at(bytes, at + 4)? as usize;
            if total < 12 || !total.is_multiple_of(4) || at + total > bytes.len() {
                return Err(format!("bad block length {total} at {at}"));
            }
            if u32_at(bytes, at + total - 4)? as usize != total {
                return Err(format!("trailing length mismatch at {at}"));
            }
            let body = &bytes[at + 8..at + total - 4];
            if first && (kind != SECTION_HEADER || u32_at(body, 0)? != BYTE_ORDER_MAGIC) {
                return Err("no little-endian section header first".into());
            }
            first = false;
            match kind {
                INTERFACE_DESCRIPTION => {
                    if u16_at(body, 0)? != LINKTYPE_ETHERNET {
                        return Err("not Ethernet".into());
                    }
                    let name = options(body, 8)?
                        .into_iter()
                        .find(|(code, _)| *code == IF_NAME)
                        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
                        .ok_or("an interface without a name")?;
                    file.interfaces.push(name);
                }
                ENHANCED_PACKET => {
                    let captured = u32_at(body, 12)? as usize;
                    let data = body.get(20..20 + captured).ok_or("packet overruns")?;
                    let direction = options(body, 20 + captured.next_multiple_of(4))?
                        .into_iter()
                        .find(|(code, _)| *code == EPB_FLAGS)
                        .map(|(_, v)| match v.first().map(|b| b & 3) {
                            Some(1) => Some(Direction::Inbound),
                            Some(2) => Some(Direction::Outbound),
                            _ => None,
                        })
                        .unwrap_or(None);
                    file.packets.push(Packet {
                        interface: u32_at(body, 0)?,
                        timestamp_ns: (u64::from(u32_at(body, 4)?) << 32)
                            | u64::from(u32_at(body, 8)?),
                        data: data.to_vec(),
                        original_len: u32_at(body, 16)?,
                        direction,
                    });
                }
                _ => {}
            }
            at += total;
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::read::{Packet, parse};
    use super::*;

    #[test]
    fn what_is_written_parses_back() {
        let mut writer = Writer::new(["client:eth0", "server:eth0"]);
        let frame: Vec<u8> = (0u8..61).collect();
        writer.packet(
            1,
            1_700_000_000_123_456_789,
            &frame,
            61,
            Some(Direction::Inbound),
        );
        writer.packet(0, 5, &frame[..3], 1500, Some(Direction::Outbound));
        writer.packet(0, 6, &[], 0, None);
        let bytes = writer.into_bytes();
        assert_eq!(bytes.len() % 4, 0);
        let file = parse(&bytes).expect("parse");
        assert_eq!(file.interfaces, ["client:eth0", "server:eth0"]);
        assert_eq!(
            file.packets,
            [
                Packet {
                    interface: 1,
                    timestamp_ns: 1_700_000_000_123_456_789,
                    data: frame.clone(),
                    original_len: 61,
                    direction: Some(Direction::Inbound),
                },
                Packet {
                    interface: 0,
                    timestamp_ns: 5,
                    data: frame[..3].to_vec(),
                    original_len: 1500,
                    direction: Some(Direction::Outbound),
                },
                Packet {
                    interface: 0,
                    timestamp_ns: 6,
                    data: Vec::new(),
                    original_len: 0,
                    direction: None,
                },
            ]
        );
    }

    /// The capture appends what `take` gives as it goes: a file that ends after any of those
    /// pieces (a test process that died) is a whole file with the packets written so far.
    #[test]
    fn a_file_cut_after_any_piece_parses() {
        let mut writer = Writer::new(["client:eth0"]);
        let mut file = writer.take();
        for n in 0..3u8 {
            writer.packet(0, u64::from(n), &[n; 5], 5, Some(Direction::Outbound));
            if n != 1 {
                file.extend(writer.take());
                let packets = parse(&file).expect("parse").packets;
                assert_eq!(packets.last().map(|p| p.timestamp_ns), Some(u64::from(n)));
            }
        }
        assert_eq!(parse(&file).unwrap().packets.len(), 3);
    }

    #[test]
    fn a_file_without_packets_is_still_a_file() {
        let bytes = Writer::new(std::iter::empty()).into_bytes();
        // Section header: 12 bytes of framing, 16 of fields, 20 of options (the application's
        // name, padded, and the end).
        assert_eq!(bytes.len(), 48);
        assert_eq!(&bytes[..4], &[0x0A, 0x0D, 0x0D, 0x0A]);
        assert!(parse(&bytes).unwrap().packets.is_empty());
    }
}
