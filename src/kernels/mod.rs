//! Run-time-sized compute kernels: convolution (im2col + GEMM), pooling, fully connected.
//!
//! Sizes here are plain `usize`s (the type-level shapes are checked before a kernel is called),
//! so the kernels can be tested over many shapes. One folder per operation family, each holding
//! the fast path (`mod.rs`), its naive reference (`naive.rs`: direct loops straight from the
//! definition, compiled for tests only) and its tests (`tests.rs`: hand-worked cases, f64 finite
//! differences, and random shape grids against the reference):
//!
//! | operation | forward | backward |
//! |---|---|---|
//! | [`conv`] | [`conv::forward`] (optionally keeping the im2col columns) | [`conv::backward`] (from the input or the kept columns) |
//! | [`linear`] | [`linear::forward`] | [`linear::backward`] |
//! | [`pool`] max | [`pool::maxpool_forward`] | [`pool::maxpool_backward`] |
//! | [`pool`] average | [`pool::avgpool_forward`] | [`pool::avgpool_backward`] |
//! | [`pool`] global average | [`pool::global_avgpool_forward`] | [`pool::global_avgpool_backward`] |
//!
//! Backward kernels accumulate (`+=`) into every gradient they are given. Every GEMM goes
//! through [`gemm`], the crate's only `unsafe`. The legend of the comments is the crate's:
//! `N` batch, `C`/`CIN`/`COUT` channels, `H, W` input size, `K` kernel, `S` stride, `P`
//! padding, `HO, WO` output size, `IN, OUT` features.

pub mod conv;
pub mod linear;
pub mod pool;
pub(crate) mod softmax;

#[cfg(test)]
mod grid;

pub use crate::gemm::gemm;

/// Geometry of a sliding-window op on one image plane set (conv or pool).
///
/// The window is square (`k × k`), with the same stride `s` and zero/−∞ padding `p` on all four
/// sides; `h ≠ w` is fine. Build it with [`Geom::new`], which derives `ho` and `wo`.
///
/// ```
/// use typed_cnn::kernels::Geom;
/// // LeNet's first pooling: 6 channels of 24×24, 2×2 windows, stride 2: (24 − 2)/2 + 1 = 12
/// let g = Geom::new(6, 24, 24, 2, 2, 0);
/// assert_eq!(g, Geom { c: 6, h: 24, w: 24, k: 2, s: 2, p: 0, ho: 12, wo: 12 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    /// Input channels `C`.
    pub c: usize,
    /// Input height `H`.
    pub h: usize,
    /// Input width `W`.
    pub w: usize,
    /// Window (kernel) side `K`.
    pub k: usize,
    /// Stride `S`, the same vertically and horizontally.
    pub s: usize,
    /// Padding `P` added on each of the four sides.
    pub p: usize,
    /// Output height `HO = (H + 2P − K) / S + 1` (floor mode).
    pub ho: usize,
    /// Output width `WO = (W + 2P − K) / S + 1` (floor mode).
    pub wo: usize,
}

impl Geom {
    /// Floor-mode output size, PyTorch's: `ho = (h + 2p − k)/s + 1`, likewise `wo`.
    ///
    /// **Panics** (with the numbers) if `k == 0`, `s == 0`, or `k > h + 2p` / `k > w + 2p`
    /// (the window would not fit even once).
    ///
    /// ```
    /// use typed_cnn::kernels::Geom;
    /// let g = Geom::new(3, 7, 9, 3, 2, 1);
    /// assert_eq!((g.ho, g.wo), (4, 5));
    /// ```
    #[track_caller]
    pub fn new(c: usize, h: usize, w: usize, k: usize, s: usize, p: usize) -> Geom {
        assert!(s > 0, "Geom: stride must be > 0 (c={c} h={h} w={w} k={k} s={s} p={p})");
        assert!(k > 0, "Geom: kernel size must be > 0 (c={c} h={h} w={w} k={k} s={s} p={p})");
        assert!(
            k <= h + 2 * p && k <= w + 2 * p,
            "Geom: kernel k={k} does not fit the padded input {}×{} (h={h} w={w} p={p})",
            h + 2 * p,
            w + 2 * p
        );
        Geom { c, h, w, k, s, p, ho: (h + 2 * p - k) / s + 1, wo: (w + 2 * p - k) / s + 1 }
    }

    /// `true` for the 1×1, stride-1, unpadded window, where the image already is its own
    /// im2col matrix (`C × H·W`) and the copy is skipped.
    ///
    /// ```
    /// use typed_cnn::kernels::Geom;
    /// assert!(Geom::new(16, 8, 8, 1, 1, 0).is_pointwise()); // a 1×1 convolution
    /// assert!(!Geom::new(16, 8, 8, 1, 2, 0).is_pointwise()); // stride 2 skips pixels
    /// assert!(!Geom::new(16, 8, 8, 3, 1, 1).is_pointwise()); // 3×3 windows overlap
    /// ```
    pub fn is_pointwise(&self) -> bool {
        self.k == 1 && self.s == 1 && self.p == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Geom;

    #[test]
    fn geom_floor_mode_sizes() {
        let g = Geom::new(2, 7, 9, 3, 2, 1);
        assert_eq!((g.ho, g.wo), (4, 5));
        // Stride 3 does not tile 11 + 2 − 4 = 9 → 9/3 + 1 = 4; 6 + 2 − 4 = 4 → 4/3 + 1 = 2.
        let g = Geom::new(1, 11, 6, 4, 3, 1);
        assert_eq!((g.ho, g.wo), (4, 2));
        // Window as large as the input: 1×1 output.
        let g = Geom::new(1, 5, 5, 5, 1, 0);
        assert_eq!((g.ho, g.wo), (1, 1));
        assert!(Geom::new(3, 4, 4, 1, 1, 0).is_pointwise());
        assert!(!Geom::new(3, 4, 4, 1, 2, 0).is_pointwise());
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn geom_kernel_too_large_panics() {
        Geom::new(1, 3, 8, 4, 1, 0);
    }

    #[test]
    #[should_panic(expected = "stride must be > 0")]
    fn geom_zero_stride_panics() {
        Geom::new(1, 3, 3, 2, 0, 0);
    }
}
