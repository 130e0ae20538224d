//! [`Storage`] without the standard library: values viewed in place, never owned, so that a
//! `no_std` build has no heap. Layers hold their weights in it as they do with `std`; the
//! weights are a `&'static` image of a file (see [`crate::infer::View`]).

use core::fmt;
use core::ops::Deref;

use crate::Float;

/// The values of a layer parameter, viewed in place in `&'static` memory (flash): without the
/// `std` feature a storage never owns a buffer and cannot be written.
#[derive(Clone, PartialEq)]
pub struct Storage<E: Float> {
    data: &'static [E],
}

impl<E: Float> Storage<E> {
    /// Values viewed in place, not copied.
    pub const fn from_static(values: &'static [E]) -> Self {
        Storage { data: values }
    }
}

impl<E: Float> Deref for Storage<E> {
    type Target = [E];
    #[inline]
    fn deref(&self) -> &[E] {
        self.data
    }
}

impl<E: Float> fmt::Debug for Storage<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Storage({} values, in place)", self.data.len())
    }
}
