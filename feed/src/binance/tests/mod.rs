//! Unit tests of the decoder and the sync rules.

mod decode;
mod futures;
mod sync;
