//! What [`run`](crate::run()) takes and gives back: a topology ([`AsTopology`]), and a value
//! that crosses from the sandbox's process to the caller's ([`Portable`]).

use crate::Result;
use crate::topology::Topology;

/// A topology given to [`run`](crate::run()): its text, or a parsed [`Topology`].
pub trait AsTopology {
    /// The text to build, checked.
    ///
    /// # Errors
    ///
    /// [`Error::Topology`](crate::Error::Topology) if the text does not parse.
    fn topology_text(&self) -> Result<String>;
}

impl AsTopology for &str {
    fn topology_text(&self) -> Result<String> {
        Topology::parse(self)?;
        Ok((*self).to_owned())
    }
}

impl AsTopology for String {
    fn topology_text(&self) -> Result<String> {
        self.as_str().topology_text()
    }
}

impl AsTopology for &Topology {
    /// A topology's display parses back to an equal topology (see [`Topology`]).
    fn topology_text(&self) -> Result<String> {
        Ok(self.to_string())
    }
}

impl AsTopology for Topology {
    fn topology_text(&self) -> Result<String> {
        Ok(self.to_string())
    }
}

/// A value that can come back from [`run`](crate::run())'s child process: encoded to bytes there, decoded
/// here. Implemented for `()`, `bool`, the integers, `String`, `Option`, `Result`, `Vec` and
/// pairs of these; implement it for a type of your own from those.
pub trait Portable: Sized {
    /// Appends the value to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Takes a value from the front of `input`, or `None` if it does not hold one.
    fn decode(input: &mut &[u8]) -> Option<Self>;
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Some(head)
}

macro_rules! portable_integers {
    ($($t:ty),*) => {$(
        impl Portable for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(input: &mut &[u8]) -> Option<Self> {
                let bytes = take(input, std::mem::size_of::<$t>())?;
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    )*};
}

portable_integers!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

impl Portable for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(_: &mut &[u8]) -> Option<Self> {
        Some(())
    }
}

impl Portable for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match u8::decode(input)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Portable for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.len().encode(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        let len = usize::decode(input)?;
        String::from_utf8(take(input, len)?.to_vec()).ok()
    }
}

impl<T: Portable> Portable for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.len().encode(out);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        let len = usize::decode(input)?;
        // Every item takes a byte or more, except `()`: bound the allocation by the input.
        let mut items = Vec::with_capacity(len.min(input.len()));
        for _ in 0..len {
            items.push(T::decode(input)?);
        }
        Some(items)
    }
}

impl<T: Portable> Portable for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.is_some().encode(out);
        if let Some(value) = self {
            value.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match bool::decode(input)? {
            true => Some(Some(T::decode(input)?)),
            false => Some(None),
        }
    }
}

impl<T: Portable, E: Portable> Portable for std::result::Result<T, E> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.is_ok().encode(out);
        match self {
            Ok(value) => value.encode(out),
            Err(error) => error.encode(out),
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match bool::decode(input)? {
            true => Some(Ok(T::decode(input)?)),
            false => Some(Err(E::decode(input)?)),
        }
    }
}

impl<A: Portable, B: Portable> Portable for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        Some((A::decode(input)?, B::decode(input)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Portable + PartialEq + std::fmt::Debug>(value: T) {
        let mut bytes = Vec::new();
        value.encode(&mut bytes);
        let mut input = &bytes[..];
        assert_eq!(T::decode(&mut input), Some(value));
        assert!(input.is_empty());
    }

    #[test]
    fn values_survive_the_pipe() {
        round_trip(());
        round_trip(true);
        round_trip(-7_i64);
        round_trip(u128::MAX);
        round_trip("héllo".to_owned());
        round_trip(vec![Some(1_u8), None]);
        round_trip::<std::result::Result<(u16, String), String>>(Ok((7, "x".into())));
        round_trip::<std::result::Result<(), String>>(Err("no".into()));
        round_trip(vec![(); 3]);
    }

    #[test]
    fn short_or_bad_input_is_refused() {
        assert_eq!(u32::decode(&mut &[1, 2][..]), None);
        assert_eq!(bool::decode(&mut &[2][..]), None);
        let mut bytes = Vec::new();
        usize::MAX.encode(&mut bytes);
        assert_eq!(String::decode(&mut &bytes[..]), None);
        assert_eq!(Vec::<u8>::decode(&mut &bytes[..]), None);
    }
}
