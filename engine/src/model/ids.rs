//! Identifiers: dense instrument and venue ids, strategy ids, client order ids.

use core::fmt;

/// A dense index into the instrument registry, assigned in registry order.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct InstrumentId(pub u32);

/// A venue (Kalshi, Binance, the local simulator, ...), assigned by the registry.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct VenueId(pub u16);

/// A strategy instance; part of every client order id it issues.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct StrategyId(pub u16);

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "i{}", self.0)
    }
}

impl fmt::Display for VenueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A deterministic client order id: the issuing strategy in the top 16 bits
/// and that strategy's order counter in the low 48 bits.
///
/// Deterministic ids are what make recovery safe: after a crash the engine
/// regenerates the same id for the same journaled intent, so the venue can
/// recognise a resend instead of creating a second order. Formatted as
/// `pt-<strategy>-<counter>` for venues that take string ids.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, bytemuck::Pod, bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct ClientOrderId(u64);

/// Why a string is not a client order id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientOrderIdError {
    /// The text does not start with `pt-`.
    MissingPrefix,
    /// The strategy part is not a number below 65536.
    BadStrategy,
    /// The counter part is not a number below 2^48.
    BadCounter,
}

impl fmt::Display for ClientOrderIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientOrderIdError::MissingPrefix => "client order id must start with \"pt-\"",
            ClientOrderIdError::BadStrategy => {
                "client order id strategy must be a number below 65536 (pt-<strategy>-<counter>)"
            }
            ClientOrderIdError::BadCounter => {
                "client order id counter must be a number below 2^48 (pt-<strategy>-<counter>)"
            }
        })
    }
}

impl std::error::Error for ClientOrderIdError {}

impl ClientOrderId {
    /// Largest counter a strategy can use.
    pub const MAX_COUNTER: u64 = (1 << 48) - 1;

    /// The id of `strategy`'s `counter`-th order, or `None` when the counter
    /// exceeds [`Self::MAX_COUNTER`].
    pub const fn new(strategy: StrategyId, counter: u64) -> Option<Self> {
        if counter > Self::MAX_COUNTER {
            return None;
        }
        Some(Self(((strategy.0 as u64) << 48) | counter))
    }

    /// The strategy that issued the order.
    pub const fn strategy(self) -> StrategyId {
        StrategyId((self.0 >> 48) as u16)
    }

    /// The strategy's order counter.
    pub const fn counter(self) -> u64 {
        self.0 & Self::MAX_COUNTER
    }

    /// The packed representation, as journaled.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// Parses the `pt-<strategy>-<counter>` form.
    pub fn parse(text: &str) -> Result<Self, ClientOrderIdError> {
        let rest = text
            .strip_prefix("pt-")
            .ok_or(ClientOrderIdError::MissingPrefix)?;
        let (strategy, counter) = rest.split_once('-').ok_or(ClientOrderIdError::BadCounter)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(strategy) {
            return Err(ClientOrderIdError::BadStrategy);
        }
        if !digits(counter) {
            return Err(ClientOrderIdError::BadCounter);
        }
        let strategy: u16 = strategy
            .parse()
            .map_err(|_| ClientOrderIdError::BadStrategy)?;
        let counter: u64 = counter
            .parse()
            .map_err(|_| ClientOrderIdError::BadCounter)?;
        Self::new(StrategyId(strategy), counter).ok_or(ClientOrderIdError::BadCounter)
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pt-{}-{}", self.strategy().0, self.counter())
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn client_order_id_packs_strategy_and_counter() {
        let id = ClientOrderId::new(StrategyId(7), 42).unwrap();
        assert_eq!(id.strategy(), StrategyId(7));
        assert_eq!(id.counter(), 42);
        assert_eq!(id.to_string(), "pt-7-42");
        assert!(ClientOrderId::new(StrategyId(1), 1 << 48).is_none());
        assert_eq!(
            ClientOrderId::parse("x-1-2"),
            Err(ClientOrderIdError::MissingPrefix)
        );
        assert_eq!(
            ClientOrderId::parse("pt-70000-2"),
            Err(ClientOrderIdError::BadStrategy)
        );
        assert_eq!(
            ClientOrderId::parse("pt-1-+2"),
            Err(ClientOrderIdError::BadCounter)
        );
        assert_eq!(
            ClientOrderId::parse("pt-1-281474976710656"),
            Err(ClientOrderIdError::BadCounter)
        );
    }

    proptest! {
        #[test]
        fn client_order_id_round_trips(strategy: u16, counter in 0..=ClientOrderId::MAX_COUNTER) {
            let id = ClientOrderId::new(StrategyId(strategy), counter).unwrap();
            prop_assert_eq!(ClientOrderId::parse(&id.to_string()), Ok(id));
        }
    }
}
