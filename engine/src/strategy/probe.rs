//! `probe`: a latency probe, not a trading strategy. It answers every
//! `every`-th book update of its markets with one immediate-or-cancel buy of
//! one contract at `price` (by default $0.01, under any ask, so it never
//! fills and nothing rests), so that a bench can pair each market-data frame
//! with the order it caused (`pt bench wire`).

use super::config::{Param, Params};
use super::{Ctx, PerMarket, Strategy};
use crate::model::{BookUpdate, ExecReport, InstrumentId, Price, Qty, Side, TimeInForce};

/// The probe's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeParams {
    /// Book updates per order.
    pub every: Qty,
    /// The order's YES price.
    pub price: Price,
}

impl Params for ProbeParams {
    const TABLE: &'static [Param] = &[
        Param {
            name: "every",
            default: "10",
            min: Qty::ONE.raw(),
            max: 1_000_000 * Qty::ONE.raw(),
            whole: true,
            expected: "a whole number of book updates such as \"10\"",
        },
        Param {
            name: "price",
            default: "0.01",
            min: 1,
            max: Price::ONE.raw() - 1,
            whole: false,
            expected: "a price between 0 and 1 such as \"0.01\"",
        },
    ];

    fn zero() -> Self {
        ProbeParams {
            every: Qty::ZERO,
            price: Price::ZERO,
        }
    }

    fn apply(&mut self, name: &str, raw: i64) {
        match name {
            "every" => self.every = Qty::from_raw(raw),
            "price" => self.price = Price::from_raw(raw),
            _ => {}
        }
    }
}

/// The latency probe.
#[derive(Debug)]
pub struct Probe {
    params: ProbeParams,
    updates: PerMarket<u64>,
    halted: bool,
    orders: u64,
}

impl Probe {
    /// Probes `instruments`.
    pub fn new(params: ProbeParams, instruments: &[InstrumentId]) -> Probe {
        Probe {
            params,
            updates: PerMarket::new(instruments),
            halted: false,
            orders: 0,
        }
    }

    /// Orders sent so far.
    pub fn orders(&self) -> u64 {
        self.orders
    }
}

impl Strategy for Probe {
    fn kind(&self) -> &'static str {
        "probe"
    }

    fn on_book(&mut self, book: &BookUpdate, ctx: &mut Ctx<'_>) {
        let every = (self.params.every.raw() / Qty::ONE.raw()).max(1) as u64;
        let Some(n) = self.updates.get_mut(book.header.instrument) else {
            return;
        };
        *n += 1;
        if self.halted || !(*n).is_multiple_of(every) {
            return;
        }
        ctx.place(
            book.header.instrument,
            Side::Buy,
            self.params.price,
            Qty::ONE,
            TimeInForce::ImmediateOrCancel,
            0,
        );
        self.orders += 1;
    }

    fn on_exec(&mut self, _: &ExecReport, _: &mut Ctx<'_>) {}

    fn set_param(&mut self, name: &str, value: i64) -> Result<(), super::config::ParamError> {
        self.params.set(name, value)
    }

    fn on_halt(&mut self, halted: bool, _: &mut Ctx<'_>) {
        self.halted = halted;
    }
}
