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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn shift_down_1_left_2() {
        // 2 channels of 3×4: 1..=12 and 13..=24
        let mut image: Vec<f32> = (1..=24).map(|v| v as f32).collect();
        shift(&mut image, 2, 3, 4, 1, -2);
        #[rustfmt::skip]
        let expected = [
            0., 0., 0., 0.,
            3., 4., 0., 0.,
            7., 8., 0., 0.,
            0., 0., 0., 0.,
            15., 16., 0., 0.,
            19., 20., 0., 0.,
        ];
        assert_eq!(image, expected);
    }

    #[test]
    fn shift_up_right_and_beyond() {
        let mut image = [1., 2., 3., 4.]; // 2×2
        shift(&mut image, 1, 2, 2, -1, 1);
        assert_eq!(image, [0., 3., 0., 0.]);
        let mut image = [1., 2., 3., 4.];
        shift(&mut image, 1, 2, 2, 0, 5);
        assert_eq!(image, [0.; 4]);
        let mut image = [1., 2., 3., 4.];
        shift(&mut image, 1, 2, 2, 0, 0);
        assert_eq!(image, [1., 2., 3., 4.]);
    }

    #[test]
    fn flip_by_hand() {
        // 2 channels of 2×3
        let mut image = [1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12.];
        flip_horizontal(&mut image, 2, 2, 3);
        assert_eq!(image, [3., 2., 1., 6., 5., 4., 9., 8., 7., 12., 11., 10.]);
    }

    #[test]
    fn random_shift_is_seeded_and_bounded() {
        let x = Tensor::<16, 1, 5, 5>::from_fn(|n, _, h, w| (n * 25 + h * 5 + w + 1) as f32);
        let run = |seed| {
            let mut y = x.clone();
            random_shift(&mut y, 1, &mut StdRng::seed_from_u64(seed));
            y
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let y = run(5);
        for n in 0..16 {
            // the centre pixel comes from within 1 pixel of the centre of the same image
            let v = y.get(n, 0, 2, 2) as usize - 1;
            assert_eq!(v / 25, n);
            let (h, w) = (v % 25 / 5, v % 5);
            assert!((1..=3).contains(&h) && (1..=3).contains(&w), "{n}: {h} {w}");
        }
        let mut z = x.clone();
        random_shift(&mut z, 0, &mut StdRng::seed_from_u64(0));
        assert_eq!(z, x);
    }

    #[test]
    fn random_flip_flips_whole_images() {
        let x = Tensor::<32, 1, 2, 3>::from_fn(|n, _, h, w| (n * 6 + h * 3 + w) as f32);
        let mut y = x.clone();
        random_flip(&mut y, &mut StdRng::seed_from_u64(9));
        let mut flipped = 0;
        for (a, b) in x.as_slice().chunks(6).zip(y.as_slice().chunks(6)) {
            let mut f = a.to_vec();
            flip_horizontal(&mut f, 1, 2, 3);
            assert!(b == a || b == f);
            flipped += usize::from(b == f);
        }
        assert!(flipped > 4 && flipped < 28, "{flipped} of 32");
    }
}
