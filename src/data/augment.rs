//! Data augmentation on a batch of images: random integer shifts and horizontal flips, drawn from
//! the caller's generator so that a seeded run reproduces.
//!
//! ```
//! use typed_cnn::data::{Dataset, augment};
//! use rand::{SeedableRng, rngs::StdRng};
//! let data = Dataset::<1, 4, 4, 2>::from_parts(vec![1.0; 32], vec![0, 1]).unwrap();
//! let mut rng = StdRng::seed_from_u64(0);
//! for mut batch in data.shuffled_batches::<2>(&mut rng) {
//!     augment::random_shift(&mut batch.images, 1, &mut rng); // up to 1 pixel each way
//!     assert!(batch.images.as_slice().iter().all(|&v| v == 0.0 || v == 1.0));
//! }
//! ```

use rand::Rng;
use typenum::Unsigned;

use crate::{Float, T4};

/// Shifts one image of `c` channels of `h × w` by `dy` rows down and `dx` columns right
/// (negative: up and left); pixels shifted in are zero and pixels shifted out are lost.
/// **Panics** if `image.len() ≠ c·h·w`.
///
/// ```
/// use typed_cnn::data::augment::shift;
/// let mut image = [1., 2., 3., 4., 5., 6.]; // 2 rows of 3
/// shift(&mut image, 1, 2, 3, 1, -1); // one down, one left
/// assert_eq!(image, [0., 0., 0., 2., 3., 0.]);
/// ```
#[track_caller]
pub fn shift<E: Float>(image: &mut [E], c: usize, h: usize, w: usize, dy: isize, dx: isize) {
    assert_eq!(image.len(), c * h * w, "an image of {c}×{h}×{w} holds {} values", c * h * w);
    if w == 0 || h == 0 {
        return;
    }
    // Output (y, x) reads input (y − dy, x − dx) when that lies inside the image.
    let source = |o: usize, d: isize, size: usize| o.checked_add_signed(-d).filter(|&s| s < size);
    for plane in image.chunks_exact_mut(h * w) {
        let old = plane.to_vec();
        for y in 0..h {
            for x in 0..w {
                plane[y * w + x] = match (source(y, dy, h), source(x, dx, w)) {
                    (Some(sy), Some(sx)) => old[sy * w + sx],
                    _ => E::ZERO,
                };
            }
        }
    }
}

/// Mirrors one image of `c` channels of `h × w` left to right. **Panics** if
/// `image.len() ≠ c·h·w`.
///
/// ```
/// use typed_cnn::data::augment::flip_horizontal;
/// let mut image = [1., 2., 3., 4., 5., 6.]; // 2 rows of 3
/// flip_horizontal(&mut image, 1, 2, 3);
/// assert_eq!(image, [3., 2., 1., 6., 5., 4.]);
/// ```
#[track_caller]
pub fn flip_horizontal<E: Float>(image: &mut [E], c: usize, h: usize, w: usize) {
    assert_eq!(image.len(), c * h * w, "an image of {c}×{h}×{w} holds {} values", c * h * w);
    if w > 0 {
        image.chunks_exact_mut(w).for_each(<[E]>::reverse);
    }
}

/// Shifts each image of the batch independently by `dy` and `dx` drawn uniformly from
/// `−max..=max`, zero-filling (see [`shift`]). The same seed gives the same shifts.
///
/// ```
/// use typed_cnn::{Tensor, data::augment::random_shift};
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut x = Tensor::<2, 1, 5, 5>::filled(1.0);
/// random_shift(&mut x, 2, &mut StdRng::seed_from_u64(3));
/// assert_eq!(x.get(0, 0, 2, 2), 1.0); // a shift of at most 2 keeps the centre
/// ```
pub fn random_shift<E: Float, const N: usize, C: Unsigned, H: Unsigned, W: Unsigned>(
    images: &mut T4<E, N, C, H, W>,
    max: usize,
    rng: &mut (impl Rng + ?Sized),
) {
    let (c, h, w) = (C::USIZE, H::USIZE, W::USIZE);
    // rand samples i64 but not isize; a shift of a whole image or more blanks it either way.
    let max = i64::try_from(max).unwrap_or(i64::MAX).min(i64::from(i32::MAX));
    let mut draw = || isize::try_from(rng.random_range(-max..=max)).unwrap_or(0);
    for image in images.as_mut_slice().chunks_exact_mut((c * h * w).max(1)) {
        let (dy, dx) = (draw(), draw());
        shift(image, c, h, w, dy, dx);
    }
}

/// Mirrors each image of the batch left to right with probability ½, independently.
///
/// **Not for digits**: a mirrored 2, 3, 4, 5, 7 or 9 is not that digit. Use it for images whose
/// class does not change under mirroring (objects, animals, vehicles…).
///
/// ```
/// use typed_cnn::{Tensor, data::augment::random_flip};
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut x = Tensor::<64, 1, 1, 2>::from_fn(|_, _, _, w| w as f32); // each row [0, 1]
/// random_flip(&mut x, &mut StdRng::seed_from_u64(0));
/// let flipped = x.as_slice().chunks(2).filter(|r| r == &[1., 0.]).count();
/// assert!(flipped > 10 && flipped < 54); // about half of 64
/// ```
pub fn random_flip<E: Float, const N: usize, C: Unsigned, H: Unsigned, W: Unsigned>(
    images: &mut T4<E, N, C, H, W>,
    rng: &mut (impl Rng + ?Sized),
) {
    let (c, h, w) = (C::USIZE, H::USIZE, W::USIZE);
    for image in images.as_mut_slice().chunks_exact_mut((c * h * w).max(1)) {
        if rng.random_bool(0.5) {
            flip_horizontal(image, c, h, w);
        }
    }
}
