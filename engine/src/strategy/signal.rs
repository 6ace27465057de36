//! External signals: one market's probability with a confidence and a time
//! to live, carried in a [`Command`] so that it travels through the commands
//! journal like any operator command.

use crate::model::{Command, CommandAction, EventKind, Header, InstrumentId, Nanos, Price, Scope};
use core::fmt;

/// An external view of one market (an AI model's, a news desk's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    /// The market.
    pub instrument: InstrumentId,
    /// The probability that YES wins, strictly between 0 and 1.
    pub probability: Price,
    /// How much the source trusts it, from 0 to 1.
    pub confidence: Price,
    /// When the source produced it (wall clock).
    pub generated_at: Nanos,
    /// How long after `generated_at` it may be acted on (ns).
    pub ttl_ns: i64,
    /// Who sent it (an id of the source).
    pub source: u64,
}

/// Why a signal is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalError {
    /// The probability is not strictly between 0 and 1.
    Probability(Price),
    /// The confidence is not from 0 to 1.
    Confidence(Price),
    /// The time to live is not positive.
    Ttl(i64),
    /// The generation time is not set.
    GeneratedAt,
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalError::Probability(p) => {
                write!(
                    f,
                    "probability {p}: expected a number strictly between 0 and 1"
                )
            }
            SignalError::Confidence(c) => {
                write!(f, "confidence {c}: expected a number from 0 to 1")
            }
            SignalError::Ttl(t) => write!(f, "ttl {t} ns: expected a positive duration"),
            SignalError::GeneratedAt => write!(f, "generated_at is not set"),
        }
    }
}

impl std::error::Error for SignalError {}

impl Signal {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), SignalError> {
        let one = Price::ONE.raw();
        if !(1..one).contains(&self.probability.raw()) {
            return Err(SignalError::Probability(self.probability));
        }
        if !(0..=one).contains(&self.confidence.raw()) {
            return Err(SignalError::Confidence(self.confidence));
        }
        if self.ttl_ns <= 0 {
            return Err(SignalError::Ttl(self.ttl_ns));
        }
        if !self.generated_at.is_set() {
            return Err(SignalError::GeneratedAt);
        }
        Ok(())
    }

    /// Whether it may be acted on at `now`.
    pub fn is_fresh(&self, now: Nanos) -> bool {
        now.0 < self.generated_at.0.saturating_add(self.ttl_ns)
    }

    /// The command that carries it, issued at `now`.
    pub fn to_command(&self, now: Nanos) -> Command {
        Command {
            header: Header::new(EventKind::Command, self.instrument, 0, now),
            action: CommandAction::Signal,
            scope: Scope::Instrument,
            target: self.instrument.0,
            arg: self.probability.raw(),
            issued_by: self.source,
            args: [
                self.confidence.raw(),
                self.generated_at.0,
                self.ttl_ns,
                0,
                0,
            ],
            ..Command::default()
        }
    }

    /// The signal a command carries, if it is one and its fields are valid.
    pub fn from_command(c: &Command) -> Option<Result<Signal, SignalError>> {
        if c.action != CommandAction::Signal {
            return None;
        }
        let s = Signal {
            instrument: InstrumentId(c.target),
            probability: Price::from_raw(c.arg),
            confidence: Price::from_raw(c.args[0]),
            generated_at: Nanos(c.args[1]),
            ttl_ns: c.args[2],
            source: c.issued_by,
        };
        Some(s.validate().map(|()| s))
    }
}

/// A change to one strategy's parameter, carried in a [`Command`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamChange {
    /// The strategy.
    pub strategy: crate::model::StrategyId,
    name: [u8; 32],
    len: u8,
    /// The value, raw fixed point (eight decimal places).
    pub value: i64,
}

impl ParamChange {
    /// A change of `name` (at most 32 bytes of ASCII) to `value`.
    pub fn new(strategy: crate::model::StrategyId, name: &str, value: i64) -> Option<ParamChange> {
        if name.is_empty() || name.len() > 32 || !name.is_ascii() {
            return None;
        }
        let mut buf = [0u8; 32];
        buf[..name.len()].copy_from_slice(name.as_bytes());
        Some(ParamChange {
            strategy,
            name: buf,
            len: name.len() as u8,
            value,
        })
    }

    /// The parameter's name.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..usize::from(self.len)]).unwrap_or("")
    }

    /// The command that carries it, issued at `now`.
    pub fn to_command(&self, now: Nanos) -> Command {
        let mut args = [0i64; 5];
        for (k, chunk) in self.name.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            args[k] = i64::from_le_bytes(b);
        }
        Command {
            header: Header::new(EventKind::Command, InstrumentId(0), 0, now),
            action: CommandAction::SetParam,
            scope: Scope::Strategy,
            strategy: self.strategy,
            arg: self.value,
            args,
            ..Command::default()
        }
    }

    /// The change a command carries, if it is one with a readable name.
    pub fn from_command(c: &Command) -> Option<ParamChange> {
        if c.action != CommandAction::SetParam {
            return None;
        }
        let mut name = [0u8; 32];
        for (k, chunk) in name.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&c.args[k].to_le_bytes());
        }
        let len = name.iter().position(|&b| b == 0).unwrap_or(32);
        let text = core::str::from_utf8(&name[..len]).ok()?;
        ParamChange::new(c.strategy, text, c.arg)
    }
}
