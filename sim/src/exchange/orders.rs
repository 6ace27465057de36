//! Every resting order, in slots, with its indexes by id and client id.

use super::*;

/// One stored order.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) order: Order,
    /// [`uuid_key`] of its id.
    pub(crate) key: u128,
    /// Placement number, unique for the exchange's lifetime: tells an order
    /// from a later one reusing its slot.
    pub(crate) seq: u64,
    /// Its user keeps no history: the entry goes once the order stops
    /// resting.
    pub(crate) ephemeral: bool,
    /// The rounding fees of its fills, for the whole-cent rebate.
    pub(crate) fee_acc: FeeAccumulator,
}

/// Orders in a slab: every order of ordinary users, the resting orders of
/// ephemeral ones. An index (held by a book queue or the expiry heap) stays
/// valid while its order is stored; a freed slot is reused by a new order.
#[derive(Debug, Default, Clone)]
pub(crate) struct OrderStore {
    pub(crate) slots: Vec<Option<Entry>>,
    /// Free slots, reused last-freed first.
    pub(crate) free: Vec<usize>,
    pub(crate) next_seq: u64,
    pub(crate) by_id: FxMap<u128, usize>,
    /// Every order of each ordinary user, oldest first (ephemeral users'
    /// orders are not listed here).
    pub(crate) by_user: FxMap<UserId, Vec<usize>>,
    /// Client ids of resting orders, per user.
    pub(crate) live_client_ids: FxMap<UserId, FxMap<String, usize>>,
    /// (expiry ms, placement number, slot) of resting orders with an
    /// expiration; entries for orders no longer resting, or whose slot now
    /// holds another order, are skipped when popped.
    pub(crate) expiries: BinaryHeap<Reverse<(i64, u64, usize)>>,
    /// Users that keep no history (a handful: a list beats a hash).
    pub(crate) ephemeral: Vec<UserId>,
}

impl OrderStore {
    pub(crate) fn entry(&self, idx: usize) -> Option<&Entry> {
        self.slots.get(idx).and_then(Option::as_ref)
    }

    pub(crate) fn get(&self, idx: usize) -> Option<&Order> {
        self.entry(idx).map(|e| &e.order)
    }

    pub(crate) fn get_mut(&mut self, idx: usize) -> Option<&mut Order> {
        self.slots
            .get_mut(idx)
            .and_then(Option::as_mut)
            .map(|e| &mut e.order)
    }

    /// Stored orders with their slots.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e)))
    }

    pub(crate) fn is_ephemeral(&self, user: UserId) -> bool {
        self.ephemeral.contains(&user)
    }

    /// Stores a new order; returns its slot.
    pub(crate) fn insert(&mut self, order: Order, key: u128) -> usize {
        let user = order.user;
        let ephemeral = self.is_ephemeral(user);
        let entry = Entry {
            order,
            key,
            seq: self.next_seq,
            ephemeral,
            fee_acc: FeeAccumulator::default(),
        };
        self.next_seq += 1;
        let idx = match self.free.pop() {
            Some(idx) => {
                self.slots[idx] = Some(entry);
                idx
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(key, idx);
        if !ephemeral {
            self.by_user.entry(user).or_default().push(idx);
        }
        idx
    }

    /// The slot of the order with id `order_id`.
    pub(crate) fn find(&self, order_id: &str) -> Option<usize> {
        uuid_key(order_id).and_then(|key| self.by_id.get(&key).copied())
    }

    /// Removes order `idx` if its user is ephemeral and it no longer rests
    /// (it is then off the book); returns it.
    pub(crate) fn release_if_done(&mut self, idx: usize) -> Option<Order> {
        let e = self.entry(idx)?;
        if !e.ephemeral || e.order.status == OrderStatus::Resting {
            return None;
        }
        self.forget_client_id(idx);
        let e = self.slots.get_mut(idx)?.take()?;
        self.by_id.remove(&e.key);
        self.free.push(idx);
        Some(e.order)
    }

    /// Order `idx`'s final state for a caller: taken out if it is released,
    /// else a copy.
    pub(crate) fn conclude(&mut self, idx: usize) -> Option<Order> {
        self.release_if_done(idx).or_else(|| self.get(idx).cloned())
    }

    pub(crate) fn client_id_taken(&self, user: UserId, cid: &str, except: Option<usize>) -> bool {
        self.live_client_ids
            .get(&user)
            .and_then(|m| m.get(cid))
            .is_some_and(|&i| Some(i) != except)
    }

    /// Keeps the live client id index in step with order `idx`'s status.
    pub(crate) fn sync_client_id(&mut self, idx: usize) {
        let Some(o) = self.get(idx) else { return };
        let Some(cid) = &o.client_order_id else {
            return;
        };
        if o.status == OrderStatus::Resting {
            let (user, cid) = (o.user, cid.clone());
            self.live_client_ids
                .entry(user)
                .or_default()
                .insert(cid, idx);
        } else {
            self.forget_client_id(idx);
        }
    }

    pub(crate) fn forget_client_id(&mut self, idx: usize) {
        // The slab by field, so the client id map can change meanwhile.
        let Some(Some(Entry { order: o, .. })) = self.slots.get(idx) else {
            return;
        };
        let Some(cid) = &o.client_order_id else {
            return;
        };
        if let Some(ids) = self.live_client_ids.get_mut(&o.user)
            && ids.get(cid) == Some(&idx)
        {
            ids.remove(cid);
        }
    }
}

impl core::ops::Index<usize> for OrderStore {
    type Output = Order;

    /// The order in slot `idx`, which must hold one.
    fn index(&self, idx: usize) -> &Order {
        self.get(idx)
            .expect("an order's slot holds it while it is stored")
    }
}

impl core::ops::IndexMut<usize> for OrderStore {
    fn index_mut(&mut self, idx: usize) -> &mut Order {
        self.get_mut(idx)
            .expect("an order's slot holds it while it is stored")
    }
}
