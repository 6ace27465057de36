//! Order groups: a user's contracts limit over a rolling 15-second window.
//! When the fills of the group's orders pass it, every resting order in the
//! group is cancelled and new orders in it are refused until the group is
//! reset; a trigger does the same by hand (Kalshi's venue-side kill switch).

use super::*;

/// The rolling window a group's limit is measured over.
pub(crate) const GROUP_WINDOW_MS: i64 = 15_000;

/// One order group.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderGroup {
    /// Its owner.
    pub user: UserId,
    /// Contracts that may be matched within the window.
    pub limit: Qty,
    /// (time ms, contracts) of the window's fills.
    pub window: VecDeque<(i64, i64)>,
    /// Tripped: its orders cancelled, new ones refused until a reset.
    pub triggered: bool,
    /// Ids of the orders placed in it.
    pub orders: Vec<String>,
}

impl OrderGroup {
    /// Contracts matched within the window ending at `now_ms`.
    pub fn matched(&self, now_ms: i64) -> i64 {
        self.window
            .iter()
            .filter(|(t, _)| now_ms - t < GROUP_WINDOW_MS)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Exchange {
    /// Creates a group of `user` with `limit` contracts per window.
    pub fn create_group(&mut self, user: UserId, limit: Qty) -> Result<String, Reject> {
        if limit.raw() < Qty::ONE.raw() || limit.raw() % Qty::ONE.raw() != 0 {
            return Err(Reject::new(
                400,
                "invalid_parameters",
                format!(
                    "contracts_limit: {limit} is not a whole number of contracts of at least 1"
                ),
            ));
        }
        let id = self.ids.uuid();
        self.groups.insert(
            id.clone(),
            OrderGroup {
                user,
                limit,
                window: VecDeque::new(),
                triggered: false,
                orders: Vec::new(),
            },
        );
        Ok(id)
    }

    /// `user`'s group `id`.
    pub fn group(&self, user: UserId, id: &str) -> Option<&OrderGroup> {
        self.groups.get(id).filter(|g| g.user == user)
    }

    fn group_mut(&mut self, user: UserId, id: &str) -> Result<&mut OrderGroup, Reject> {
        self.groups
            .get_mut(id)
            .filter(|g| g.user == user)
            .ok_or_else(|| {
                Reject::new(
                    404,
                    "not_found",
                    format!("order group {id:?} does not exist"),
                )
            })
    }

    /// Places `order` in group `group` (which must be `order.user`'s and not
    /// triggered).
    pub fn place_in_group(
        &mut self,
        order: NewOrder,
        group: &str,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<Order, Reject> {
        let g = self.group_mut(order.user, group)?;
        if g.triggered {
            return Err(Reject::new(
                409,
                "exceeded_order_group_risk_limit",
                format!(
                    "order group {group} hit its limit of {} contracts in 15 s; reset it first",
                    g.limit
                ),
            ));
        }
        let placed = self.place(order, now_ms, events)?;
        if let Some(g) = self.groups.get_mut(group) {
            g.orders.push(placed.order_id.clone());
        }
        self.group_of
            .insert(placed.order_id.clone(), group.to_owned());
        // Its own fills on arrival count too.
        let own = placed.order_id.clone();
        self.count_group_fills(0, events, now_ms, &|id| id == own);
        Ok(placed)
    }

    /// Books the fills among `events[from..]` of grouped orders and
    /// triggers every group past its limit.
    pub(crate) fn count_group_fills(
        &mut self,
        from: usize,
        events: &mut Vec<Event>,
        now_ms: i64,
        counts: &dyn Fn(&str) -> bool,
    ) {
        if self.group_of.is_empty() {
            return;
        }
        let mut tripped = Vec::new();
        for e in events.get(from..).unwrap_or_default() {
            let Event::Fill(f) = e else { continue };
            if !counts(&f.order_id) {
                continue;
            }
            let Some(group) = self.group_of.get(&f.order_id) else {
                continue;
            };
            let Some(g) = self.groups.get_mut(group) else {
                continue;
            };
            g.window.push_back((now_ms, f.count.raw()));
            while g
                .window
                .front()
                .is_some_and(|(t, _)| now_ms - t >= GROUP_WINDOW_MS)
            {
                g.window.pop_front();
            }
            if !g.triggered && g.matched(now_ms) > g.limit.raw() {
                tripped.push((g.user, group.clone()));
            }
        }
        for (user, group) in tripped {
            let _ = self.trigger_group(user, &group, now_ms, events);
        }
    }

    /// Triggers `user`'s group: cancels its resting orders and refuses new
    /// ones until [`Exchange::reset_group`].
    pub fn trigger_group(
        &mut self,
        user: UserId,
        id: &str,
        now_ms: i64,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let g = self.group_mut(user, id)?;
        g.triggered = true;
        let orders = g.orders.clone();
        for order_id in orders {
            let _ = self.cancel(user, &order_id, now_ms, events);
        }
        Ok(())
    }

    /// Resets `user`'s group: its window empties and orders are accepted.
    pub fn reset_group(&mut self, user: UserId, id: &str) -> Result<(), Reject> {
        let g = self.group_mut(user, id)?;
        g.triggered = false;
        g.window.clear();
        Ok(())
    }
}
