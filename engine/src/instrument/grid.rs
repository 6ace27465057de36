//! Price grids: the valid prices of an instrument as tick ranges.

use crate::model::Price;
use core::fmt;

/// One range of a grid: prices `start, start + step, ..., end`, both ends
/// included (Kalshi's `price_ranges` entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickRange {
    /// First price of the range.
    pub start: Price,
    /// Last price of the range.
    pub end: Price,
    /// Tick size.
    pub step: Price,
}

/// Why a set of ranges is not a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridError {
    /// No ranges at all.
    Empty,
    /// `step` is zero or negative.
    NonPositiveStep {
        /// Index of the range in the input.
        range: usize,
    },
    /// `end` is below `start`.
    EndBeforeStart {
        /// Index of the range in the input.
        range: usize,
    },
    /// `end - start` is not a whole number of steps.
    EndOffGrid {
        /// Index of the range in the input.
        range: usize,
    },
    /// Two ranges cover some of the same prices.
    Overlap {
        /// Index of one range in the input.
        first: usize,
        /// Index of the other.
        second: usize,
    },
    /// More than `u32::MAX` prices.
    TooLarge,
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GridError::Empty => {
                f.write_str("price grid is empty; expected at least one {start, end, step} range")
            }
            GridError::NonPositiveStep { range } => {
                write!(f, "price_ranges[{range}].step must be greater than 0")
            }
            GridError::EndBeforeStart { range } => {
                write!(f, "price_ranges[{range}].end is below its start")
            }
            GridError::EndOffGrid { range } => write!(
                f,
                "price_ranges[{range}]: end - start is not a whole number of steps"
            ),
            GridError::Overlap { first, second } => write!(
                f,
                "price_ranges[{first}] and price_ranges[{second}] overlap; ranges may only share an end point"
            ),
            GridError::TooLarge => f.write_str("price grid has more than 2^32 prices"),
        }
    }
}

impl std::error::Error for GridError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    /// Price at `base`.
    first: Price,
    step: i64,
    /// Number of prices in the segment.
    len: u32,
    /// Dense index of `first`.
    base: u32,
    /// `step * (len - 1)`: the offset of the segment's last price.
    span: i64,
    /// The inverse of `step`'s odd part modulo 2^64.
    odd_inverse: u64,
    /// The power of two in `step`.
    shift: u32,
    /// `u64::MAX / step`: the largest quotient of an exact division.
    max_quotient: u64,
}

impl Segment {
    fn new(first: Price, step: i64, len: u32, base: u32) -> Segment {
        // `step` is positive (checked by the caller).
        let step_u = step.unsigned_abs();
        let shift = step_u.trailing_zeros();
        let odd = step_u >> shift;
        // Newton's iteration doubles the correct low bits each round:
        // 3 → 6 → 12 → 24 → 48 → 96.
        let mut inverse = odd;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        }
        Segment {
            first,
            step,
            len,
            base,
            span: i64::try_from(i128::from(step) * (i128::from(len) - 1)).unwrap_or(i64::MAX),
            odd_inverse: inverse,
            shift,
            max_quotient: u64::MAX / step_u,
        }
    }

    /// `offset / step` when `offset` (not negative) is a whole number of
    /// steps.
    #[inline]
    fn steps(&self, offset: i64) -> Option<i64> {
        // A hardware 64-bit division costs tens of cycles on every book
        // change. Multiplying by the inverse of the step's odd part and
        // rotating out its power of two gives the exact quotient when the
        // division is exact, and a value above `u64::MAX / step` when it is
        // not (the zero-remainder test of Hacker's Delight, section 10-17).
        let q = (offset as u64)
            .wrapping_mul(self.odd_inverse)
            .rotate_right(self.shift);
        (q <= self.max_quotient).then_some(q as i64)
    }
}

/// The valid prices of an instrument, numbered densely from the lowest: the
/// index a book uses to address its ladder array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceGrid {
    segments: Vec<Segment>,
    len: u32,
}

impl PriceGrid {
    /// Builds a grid from ranges in any order. Adjacent ranges may share an
    /// end point (counted once); any other overlap is an error.
    pub fn new(ranges: &[TickRange]) -> Result<PriceGrid, GridError> {
        if ranges.is_empty() {
            return Err(GridError::Empty);
        }
        for (i, r) in ranges.iter().enumerate() {
            if r.step.raw() <= 0 {
                return Err(GridError::NonPositiveStep { range: i });
            }
            if r.end < r.start {
                return Err(GridError::EndBeforeStart { range: i });
            }
            let span = i128::from(r.end.raw()) - i128::from(r.start.raw());
            if span % i128::from(r.step.raw()) != 0 {
                return Err(GridError::EndOffGrid { range: i });
            }
        }
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&i| (ranges[i].start, ranges[i].end));
        let mut segments = Vec::with_capacity(ranges.len());
        let mut next_index: u64 = 0;
        let mut previous: Option<usize> = None;
        for &i in &order {
            let r = ranges[i];
            let steps =
                (i128::from(r.end.raw()) - i128::from(r.start.raw())) / i128::from(r.step.raw());
            let mut first = r.start;
            let mut len = steps + 1;
            if let Some(p) = previous {
                let prev = ranges[p];
                if r.start < prev.end {
                    return Err(GridError::Overlap {
                        first: p,
                        second: i,
                    });
                }
                if r.start == prev.end {
                    // The shared end point belongs to the previous range.
                    if len == 1 {
                        previous = Some(i);
                        continue;
                    }
                    first = Price::from_raw(r.start.raw() + r.step.raw());
                    len -= 1;
                }
            }
            let len = u32::try_from(len).map_err(|_| GridError::TooLarge)?;
            let base = u32::try_from(next_index).map_err(|_| GridError::TooLarge)?;
            segments.push(Segment::new(first, r.step.raw(), len, base));
            next_index += u64::from(len);
            previous = Some(i);
        }
        let len = u32::try_from(next_index).map_err(|_| GridError::TooLarge)?;
        Ok(PriceGrid { segments, len })
    }

    /// The grid as disjoint tick ranges, lowest first (a range that shared
    /// its first price with the previous one starts one step later).
    pub fn ranges(&self) -> Vec<TickRange> {
        self.segments
            .iter()
            .map(|s| TickRange {
                start: s.first,
                end: Price::from_raw(s.first.raw() + s.step * (i64::from(s.len) - 1)),
                step: Price::from_raw(s.step),
            })
            .collect()
    }

    /// A single uniform range.
    pub fn uniform(start: Price, end: Price, step: Price) -> Result<PriceGrid, GridError> {
        PriceGrid::new(&[TickRange { start, end, step }])
    }

    /// Number of valid prices.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the grid has no prices (never true for a built grid).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The dense index of `price`, or `None` when it is not on the grid.
    #[inline]
    pub fn index_of(&self, price: Price) -> Option<u32> {
        for s in &self.segments {
            let offset = price.raw().checked_sub(s.first.raw())?;
            if offset < 0 {
                return None;
            }
            if offset <= s.span {
                // Within this segment's span: on the grid or not at all.
                return s.steps(offset).map(|k| s.base + k as u32);
            }
        }
        None
    }

    /// The price at dense index `index`.
    #[inline]
    pub fn price_at(&self, index: u32) -> Option<Price> {
        let s = self
            .segments
            .iter()
            .find(|s| index >= s.base && index - s.base < s.len)?;
        Some(Price::from_raw(
            s.first.raw() + i64::from(index - s.base) * s.step,
        ))
    }

    /// The prices of this grid from index `first` to index `last` (both
    /// included) as a grid of their own, with the same ticks: the window an
    /// array-indexed book covers when the whole grid is too large to hold.
    /// `last` is clamped to the grid; `first` past `last` is
    /// [`GridError::Empty`].
    pub fn window(&self, first: u32, last: u32) -> Result<PriceGrid, GridError> {
        let last = last.min(self.len.saturating_sub(1));
        if first > last || self.is_empty() {
            return Err(GridError::Empty);
        }
        let mut ranges = Vec::new();
        for s in &self.segments {
            let (lo, hi) = (first.max(s.base), last.min(s.base + s.len - 1));
            if lo > hi {
                continue;
            }
            let at = |i: u32| Price::from_raw(s.first.raw() + i64::from(i - s.base) * s.step);
            ranges.push(TickRange {
                start: at(lo),
                end: at(hi),
                step: Price::from_raw(s.step),
            });
        }
        PriceGrid::new(&ranges)
    }

    /// The lowest price.
    pub fn min(&self) -> Option<Price> {
        self.price_at(0)
    }

    /// The highest price.
    pub fn max(&self) -> Option<Price> {
        self.len.checked_sub(1).and_then(|i| self.price_at(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn range(a: &str, b: &str, s: &str) -> TickRange {
        TickRange {
            start: p(a),
            end: p(b),
            step: p(s),
        }
    }

    #[test]
    fn a_window_keeps_the_ticks_of_every_range_it_spans() {
        // 0.01..0.10 by 0.01 (indices 0..=9), then 0.10..1.00 by 0.05
        // (0.15 is index 10).
        let g = PriceGrid::new(&[range("0.01", "0.10", "0.01"), range("0.10", "1.00", "0.05")])
            .unwrap();
        let w = g.window(7, 11).unwrap();
        assert_eq!(
            w.ranges(),
            vec![range("0.08", "0.10", "0.01"), range("0.15", "0.20", "0.05")]
        );
        assert_eq!(w.len(), 5);
        for i in 7..=11 {
            assert_eq!(w.index_of(g.price_at(i).unwrap()), Some(i - 7));
        }
        assert_eq!(w.index_of(p("0.07")), None);
        assert_eq!(g.window(15, u32::MAX).unwrap().max(), g.max());
        assert_eq!(g.window(5, 4), Err(GridError::Empty));
        assert_eq!(g.window(g.len(), u32::MAX), Err(GridError::Empty));
    }

    #[test]
    fn kalshi_tapered_grid() {
        // Fine ticks at the tails, cent ticks in the middle.
        let grid = PriceGrid::new(&[
            range("0.1", "0.9", "0.01"),
            range("0", "0.1", "0.001"),
            range("0.9", "1", "0.001"),
        ])
        .unwrap();
        assert_eq!(grid.len(), 101 + 80 + 100);
        assert_eq!(grid.index_of(p("0")), Some(0));
        assert_eq!(grid.index_of(p("0.1")), Some(100));
        assert_eq!(grid.index_of(p("0.11")), Some(101));
        assert_eq!(grid.index_of(p("0.105")), None);
        assert_eq!(grid.index_of(p("0.9")), Some(180));
        assert_eq!(grid.index_of(p("0.901")), Some(181));
        assert_eq!(grid.index_of(p("1")), Some(280));
        assert_eq!(grid.index_of(p("1.001")), None);
        assert_eq!(grid.index_of(p("-0.001")), None);
        assert_eq!(grid.min(), Some(p("0")));
        assert_eq!(grid.max(), Some(p("1")));
    }

    #[test]
    fn rejects_bad_grids() {
        assert_eq!(PriceGrid::new(&[]), Err(GridError::Empty));
        assert_eq!(
            PriceGrid::new(&[range("0.01", "0.99", "0")]),
            Err(GridError::NonPositiveStep { range: 0 })
        );
        assert_eq!(
            PriceGrid::new(&[range("0.5", "0.4", "0.01")]),
            Err(GridError::EndBeforeStart { range: 0 })
        );
        assert_eq!(
            PriceGrid::new(&[range("0", "0.105", "0.01")]),
            Err(GridError::EndOffGrid { range: 0 })
        );
        assert_eq!(
            PriceGrid::new(&[range("0.5", "0.9", "0.01"), range("0", "0.6", "0.01")]),
            Err(GridError::Overlap {
                first: 1,
                second: 0
            })
        );
    }

    proptest! {
        #[test]
        fn index_and_price_are_inverse(start in 0i64..1000, steps in 1i64..500, step in 1i64..100, gap in 0i64..3, steps2 in 1i64..300, step2 in 1i64..50) {
            let a = TickRange { start: Price::from_raw(start), end: Price::from_raw(start + steps * step), step: Price::from_raw(step) };
            let b_start = a.end.raw() + gap * step2;
            let b = TickRange { start: Price::from_raw(b_start), end: Price::from_raw(b_start + steps2 * step2), step: Price::from_raw(step2) };
            let grid = PriceGrid::new(&[b, a]).unwrap();
            let mut last = None;
            for i in 0..grid.len() {
                let price = grid.price_at(i).unwrap();
                prop_assert_eq!(grid.index_of(price), Some(i));
                if let Some(l) = last { prop_assert!(price > l); }
                last = Some(price);
            }
            prop_assert_eq!(grid.price_at(grid.len()), None);
        }

        /// Division by multiplication agrees with integer division for
        /// prices on and off the grid, small and very large.
        #[test]
        fn index_of_agrees_with_division(first in -1_000_000_000_000i64..1_000_000_000_000, step in 1i64..10_000_000_000, len in 1u32..5_000_000, probe in any::<i64>()) {
            let end = first + step * i64::from(len - 1);
            let grid = PriceGrid::uniform(Price::from_raw(first), Price::from_raw(end), Price::from_raw(step)).unwrap();
            for price in [probe, first + probe.rem_euclid(end - first + 1), end, first, end - 1, first + 1] {
                let offset = i128::from(price) - i128::from(first);
                let want = (offset >= 0 && offset % i128::from(step) == 0 && price <= end)
                    .then(|| (offset / i128::from(step)) as u32);
                prop_assert_eq!(grid.index_of(Price::from_raw(price)), want, "price {}", price);
            }
        }
    }
}
