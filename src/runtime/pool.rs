//! The storage pool: buffers that tensors, parameters and kernels give back when they are done
//! with them, handed out again to the next request of the same length, so a training step does
//! not allocate (and fault in) its large buffers anew.
//!
//! [`Storage`] is the one owner of element buffers: tensors and layer parameters hold one, and
//! its `Drop` returns the buffer here, so no layer gives storage back by hand. [`Scratch`] is a
//! kernel's temporary buffer, taken from and returned to the same pool.

use core::any::Any;
use core::fmt;
use core::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::Float;

/// How many buffers a pool keeps per element type (a LeNet step needs about twenty).
const POOL_MAX: usize = 64;
/// How many bytes a pool keeps per element type at most: large networks' columns do not pile up.
const POOL_MAX_BYTES: usize = 256 << 20;
/// Buffers shorter than this go back to the allocator, not the pool: for them `malloc` is as
/// fast as a lock, and they would push the large buffers out.
const POOL_MIN_LEN: usize = 1024;

type Pool<E> = Mutex<Vec<Vec<E>>>;
static POOL_F32: Pool<f32> = Mutex::new(Vec::new());
static POOL_F64: Pool<f64> = Mutex::new(Vec::new());

/// The pool of element type `E` (`f32` and `f64` are the only [`Float`]s).
fn pool<E: Float>() -> &'static Pool<E> {
    let any: &'static dyn Any = if size_of::<E>() == 4 { &POOL_F32 } else { &POOL_F64 };
    any.downcast_ref().expect("Float is sealed: f32 or f64")
}

/// The pool's lock; a poisoned lock is taken over (the pool is a list of buffers, valid in any
/// state a panic can leave it in).
fn lock<E>(pool: &Pool<E>) -> MutexGuard<'_, Vec<Vec<E>>> {
    pool.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A buffer of exactly `len` elements from the element type's pool, else a new one. Its contents
/// are unspecified (old values, never uninitialized memory): callers overwrite or clear it.
fn take_exact<E: Float>(len: usize) -> Vec<E> {
    if len < POOL_MIN_LEN {
        return vec![E::ZERO; len];
    }
    let found = {
        let mut pool = lock(pool::<E>());
        // `remove`, not `swap_remove`: the pool stays in age order for eviction
        pool.iter().position(|v| v.len() == len).map(|i| pool.remove(i))
    };
    found.unwrap_or_else(|| vec![E::ZERO; len])
}

/// Gives a buffer back to the pool; a full pool (64 buffers or 256 MiB) drops its oldest
/// buffers, so the pool follows the sizes the program uses now.
fn recycle<E: Float>(v: Vec<E>) {
    if v.len() < POOL_MIN_LEN || v.len() * size_of::<E>() > POOL_MAX_BYTES {
        return; // small: the allocator is as fast; larger than the whole pool: just free it
    }
    let bytes = |pool: &[Vec<E>]| pool.iter().map(|b| b.len()).sum::<usize>() * size_of::<E>();
    let mut evicted = Vec::new();
    {
        let mut pool = lock(pool::<E>());
        pool.push(v);
        while pool.len() > POOL_MAX || bytes(&pool) > POOL_MAX_BYTES {
            evicted.push(pool.remove(0));
        }
    }
    drop(evicted); // freed outside the lock
}

/// Frees every buffer the pools keep for reuse (up to 256 MiB per element type). Training and
/// inference refill them; call this when a program is done with networks for a while.
///
/// ```
/// typed_cnn::release_buffers();
/// ```
pub fn release_buffers() {
    drop(core::mem::take(&mut *lock(&POOL_F32)));
    drop(core::mem::take(&mut *lock(&POOL_F64)));
}

/// An owned buffer of elements whose memory goes back to the pool when it is dropped: what
/// every tensor and every layer parameter stores its values in.
///
/// It dereferences to `[E]`; its length never changes.
///
/// ```
/// use typed_cnn::Storage;
/// let mut s = Storage::<f32>::zeros(3);
/// s[1] = 2.0;
/// assert_eq!(&s[..], [0.0, 2.0, 0.0]);
/// assert_eq!(Storage::from(vec![1.0f64, 2.0]).into_vec(), [1.0, 2.0]);
/// ```
pub struct Storage<E: Float> {
    data: Data<E>,
}

/// Where a [`Storage`]'s values are: a buffer it owns, or values it views in place (weights in
/// a `&'static` file image), copied into a buffer of its own on the first write.
enum Data<E: 'static> {
    Owned(Box<[E]>),
    Static(&'static [E]),
}

impl<E: Float> Storage<E> {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        let mut s = Self::uninit(len);
        s.fill(E::ZERO);
        s
    }

    /// Values viewed in place, not copied: weights in a `&'static` image of a file (see
    /// [`crate::infer::View`]). A write (training them) first copies them into a buffer of this
    /// storage's own; a clone views the same values.
    ///
    /// ```
    /// use typed_cnn::Storage;
    /// static W: [f32; 3] = [1.0, 2.0, 3.0];
    /// let mut s = Storage::from_static(&W);
    /// assert_eq!(s.as_ptr(), W.as_ptr()); // no copy
    /// s[0] = 5.0; // copy on write
    /// assert_eq!((&s[..], W[0]), (&[5.0, 2.0, 3.0][..], 1.0));
    /// ```
    pub const fn from_static(values: &'static [E]) -> Self {
        Storage { data: Data::Static(values) }
    }

    /// `len` elements from the pool with unspecified (old, initialized) contents: for outputs
    /// that a kernel overwrites completely.
    pub(crate) fn uninit(len: usize) -> Self {
        Storage { data: Data::Owned(take_exact(len).into_boxed_slice()) }
    }

    /// The values as a `Vec`, without a copy unless they are viewed in place (the buffer leaves
    /// the pool's cycle).
    pub fn into_vec(mut self) -> Vec<E> {
        match core::mem::replace(&mut self.data, Data::Static(&[])) {
            Data::Owned(b) => b.into_vec(),
            Data::Static(s) => s.to_vec(),
        }
    }
}

impl<E: Float> From<Vec<E>> for Storage<E> {
    fn from(v: Vec<E>) -> Self {
        Storage { data: Data::Owned(v.into_boxed_slice()) }
    }
}

impl<E: Float> FromIterator<E> for Storage<E> {
    fn from_iter<I: IntoIterator<Item = E>>(iter: I) -> Self {
        Storage { data: Data::Owned(iter.into_iter().collect()) }
    }
}

impl<E: Float> Drop for Storage<E> {
    fn drop(&mut self) {
        if let Data::Owned(b) = &mut self.data {
            recycle(core::mem::take(b).into_vec());
        }
    }
}

impl<E: Float> Clone for Storage<E> {
    fn clone(&self) -> Self {
        if let Data::Static(s) = self.data {
            return Storage { data: Data::Static(s) };
        }
        let mut s = Self::uninit(self.len());
        s.copy_from_slice(self);
        s
    }
}

impl<E: Float> Deref for Storage<E> {
    type Target = [E];
    #[inline]
    fn deref(&self) -> &[E] {
        match &self.data {
            Data::Owned(b) => b,
            Data::Static(s) => s,
        }
    }
}

impl<E: Float> DerefMut for Storage<E> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [E] {
        if let Data::Static(_) = self.data {
            self.make_owned();
        }
        match &mut self.data {
            Data::Owned(b) => b,
            Data::Static(_) => unreachable!("made owned above"),
        }
    }
}

impl<E: Float> Storage<E> {
    /// Copies viewed values into a buffer of this storage's own (the first write to weights
    /// viewed in place): out of line, so that every write access stays a short branch.
    #[cold]
    #[inline(never)]
    fn make_owned(&mut self) {
        if let Data::Static(s) = self.data {
            let mut owned = take_exact(s.len());
            owned.copy_from_slice(s);
            self.data = Data::Owned(owned.into_boxed_slice());
        }
    }
}

impl<E: Float> PartialEq for Storage<E> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<E: Float> fmt::Debug for Storage<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = &self[..self.len().min(8)];
        write!(f, "Storage({} values) {head:?}", self.len())?;
        if self.len() > 8 {
            write!(f, "…")?;
        }
        Ok(())
    }
}

/// A kernel's scratch buffer, borrowed from the element type's pool and given back on drop. Its
/// contents are unspecified: kernels overwrite what they read.
pub(crate) struct Scratch<E: Float>(Vec<E>);

impl<E: Float> Scratch<E> {
    /// At least `len` elements (at most twice as many): callers use and clear only the first
    /// `len`.
    pub(crate) fn take(len: usize) -> Self {
        if len == 0 {
            return Scratch(Vec::new());
        }
        // The smallest pooled buffer that is long enough, and not more than twice too long: a
        // small request must not take (and keep from its own size) a large layer's buffer.
        let found = (len >= POOL_MIN_LEN)
            .then(|| {
                let mut pool = lock(pool::<E>());
                let i = (0..pool.len())
                    .filter(|&i| (len..=2 * len).contains(&pool[i].len()))
                    .min_by_key(|&i| pool[i].len())?;
                Some(pool.remove(i)) // `remove`: the pool stays in age order
            })
            .flatten();
        Scratch(found.unwrap_or_else(|| vec![E::ZERO; len]))
    }
}

impl<E: Float> Deref for Scratch<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.0
    }
}

impl<E: Float> DerefMut for Scratch<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.0
    }
}

impl<E: Float> Drop for Scratch<E> {
    fn drop(&mut self) {
        recycle(core::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small scratch request does not take a large layer's buffer from the pool (it did:
    /// the smallest buffer long enough, however long, and the kernels then zeroed all of it;
    /// a layer after `dw144` ran 3× slower).
    #[test]
    fn scratch_takes_no_buffer_more_than_twice_too_long() {
        recycle(vec![0.0f64; 1_234_571]); // ten times the request below
        let s = Scratch::<f64>::take(123_457);
        assert!((123_457..=2 * 123_457).contains(&s.len()), "took {} elements", s.len());
    }

    #[test]
    fn storage_returns_to_the_pool_on_drop() {
        // a length no other test uses, so parallel tests cannot take it in between
        let len = 4099;
        let s = Storage::<f64>::zeros(len);
        let ptr = s.as_ptr();
        drop(s);
        let again = Storage::<f64>::uninit(len);
        assert_eq!(again.as_ptr(), ptr, "the dropped buffer is handed out again");
        assert_eq!(Storage::<f64>::zeros(len).iter().filter(|&&v| v != 0.0).count(), 0);
    }

    #[test]
    fn small_buffers_bypass_the_pool() {
        let s = Storage::<f32>::zeros(POOL_MIN_LEN - 1);
        drop(s);
        assert!(lock(&POOL_F32).iter().all(|b| b.len() >= POOL_MIN_LEN));
    }
}
