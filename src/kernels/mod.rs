//! Run-time-sized compute kernels: convolution (im2col + GEMM, direct and Winograd kernels),
//! pooling, fully connected.
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
//! | [`conv`] transposed | [`conv::transposed_forward`] | [`conv::transposed_backward`] |
//! | [`conv`] depthwise (direct, no GEMM) | [`conv::depthwise_forward`] | [`conv::depthwise_backward`] |
//! | [`linear`] | [`linear::forward`] | [`linear::backward`] |
//! | [`pool`] max | [`pool::maxpool_forward`] | [`pool::maxpool_backward`] |
//! | [`pool`] average | [`pool::avgpool_forward`] | [`pool::avgpool_backward`] |
//! | [`pool`] global average | [`pool::global_avgpool_forward`] | [`pool::global_avgpool_backward`] |
//!
//! Backward kernels accumulate (`+=`) into every gradient they are given. Every GEMM goes
//! through [`gemm`], the length-checked wrapper around `matrixmultiply`. The legend of the comments is the crate's:
//! `N` batch, `C`/`CIN`/`COUT` channels, `H, W` input size, `K` kernel, `S` stride, `P`
//! padding, `HO, WO` output size, `IN, OUT` features.

/// Runs `$body` (a call of an `#[inline(always)]` function taking the listed arguments, generic
/// over `E: Float`) compiled for the best vector unit this CPU has: AVX-512 with FMA, AVX2 with
/// FMA, or the build's baseline (SSE2 on x86-64; the crate is not built for a particular CPU).
/// It `return`s from the enclosing function, so use it as a function's whole body.
///
/// The kernels written for it make every multiply-add a fused one ([`crate::Float::mul_add`]),
/// so the three builds compute the same bits; only the vector width (and speed) differ.
#[cfg(feature = "std")]
macro_rules! dispatch {
    (($($arg:ident: $ty:ty),*), $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,fma")]
            fn avx512<E: Float>($($arg: $ty),*) { $body }
            #[target_feature(enable = "avx2,fma")]
            fn avx2<E: Float>($($arg: $ty),*) { $body }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX-512F and FMA (checked just above), the only
                // requirement of calling a function compiled with them enabled.
                return unsafe { avx512($($arg),*) };
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { avx2($($arg),*) };
            }
        }
        $body
    }};
}

/// Defines `$name`, a kernel entry point with the given parameters whose whole body is
/// [`dispatch!`] of `$body` (the `#[inline(always)]` function that does the work, taking the
/// same arguments): one signature instead of the same list written three times.
#[cfg(feature = "std")]
macro_rules! dispatched {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:ident;) => {
        $(#[$m])*
        #[allow(unsafe_code)]
        $vis fn $name<E: Float>($($arg: $ty),*) {
            dispatch!(($($arg: $ty),*), $body($($arg),*))
        }
    };
}

#[cfg(feature = "std")]
pub mod conv;
pub mod embedded;
#[cfg(feature = "std")]
pub mod linear;
#[cfg(feature = "std")]
pub mod pool;
pub(crate) mod softmax;

#[cfg(test)]
mod grid;

#[cfg(feature = "std")]
pub use crate::gemm::gemm;

/// One axis of a [`Geom`] as its assertion messages show it.
struct AxisCtx {
    axis: &'static str,
    size: usize,
    k: usize,
    s: usize,
    p: usize,
    d: usize,
}

impl core::fmt::Display for AxisCtx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let AxisCtx { axis, size, k, s, p, d } = self;
        write!(f, "{axis} axis: size {size}, k={k} s={s} p={p} d={d}")
    }
}

/// Geometry of a sliding-window op on one image plane set (conv or pool).
///
/// The window is `kh × kw`, moved by `sh` rows and `sw` columns, with `ph` rows of zero/−∞
/// padding above and below and `pw` columns left and right; its taps are `dh` rows and `dw`
/// columns apart (dilation; 1 for adjacent taps). Build it with [`Geom::new`] (square window, the
/// same stride and padding on both axes, no dilation: the pools' and `Conv2d`'s) or
/// [`Geom::rect`] (each parameter per axis), which derive `ho` and `wo`.
///
/// ```
/// use typed_cnn::kernels::Geom;
/// // LeNet's first pooling: 6 channels of 24×24, 2×2 windows, stride 2: (24 − 2)/2 + 1 = 12
/// let g = Geom::new(6, 24, 24, 2, 2, 0);
/// assert_eq!((g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.ho, g.wo), (2, 2, 2, 2, 0, 0, 12, 12));
/// assert_eq!((g.dh, g.dw), (1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geom {
    /// Input channels `C`.
    pub c: usize,
    /// Input height `H`.
    pub h: usize,
    /// Input width `W`.
    pub w: usize,
    /// Window (kernel) height `KH`.
    pub kh: usize,
    /// Window (kernel) width `KW`.
    pub kw: usize,
    /// Vertical stride `SH`.
    pub sh: usize,
    /// Horizontal stride `SW`.
    pub sw: usize,
    /// Padding `PH` added above and below.
    pub ph: usize,
    /// Padding `PW` added left and right.
    pub pw: usize,
    /// Vertical dilation `DH`: the window's rows are `DH` input rows apart.
    pub dh: usize,
    /// Horizontal dilation `DW`: the window's columns are `DW` input columns apart.
    pub dw: usize,
    /// Output height `HO = (H + 2PH − DH·(KH − 1) − 1) / SH + 1` (floor mode).
    pub ho: usize,
    /// Output width `WO = (W + 2PW − DW·(KW − 1) − 1) / SW + 1` (floor mode).
    pub wo: usize,
}

impl Geom {
    /// A square `k × k` window, stride `s` and padding `p` on both axes, no dilation; floor-mode
    /// output size, PyTorch's: `ho = (h + 2p − k)/s + 1`, likewise `wo`.
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
        Geom::rect(c, h, w, [k, k], [s, s], [p, p], [1, 1])
    }

    /// Each parameter per axis, `[height, width]` as PyTorch's tuples: kernel `k`, stride `s`,
    /// padding `p`, dilation `d`. A window of `k` taps `d` apart spans `d·(k − 1) + 1` input
    /// rows or columns; floor-mode output size `ho = (h + 2p − d·(k − 1) − 1)/s + 1`.
    ///
    /// **Panics** (with the numbers) if a kernel, stride or dilation is 0, or if the window's
    /// span exceeds the padded input on either axis.
    ///
    /// ```
    /// use typed_cnn::kernels::Geom;
    /// // a 1×7 kernel padded (0, 3): the size is kept
    /// let g = Geom::rect(8, 17, 17, [1, 7], [1, 1], [0, 3], [1, 1]);
    /// assert_eq!((g.ho, g.wo), (17, 17));
    /// // a 3×3 kernel with dilation 2 spans 5: (9 + 2·2 − 5)/1 + 1 = 9
    /// let g = Geom::rect(8, 9, 9, [3, 3], [1, 1], [2, 2], [2, 2]);
    /// assert_eq!((g.ho, g.wo), (9, 9));
    /// ```
    #[track_caller]
    pub fn rect(
        c: usize,
        h: usize,
        w: usize,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
        d: [usize; 2],
    ) -> Geom {
        let (size, axis) = ([h, w], ["height", "width"]);
        let mut out = [0; 2];
        for i in 0..2 {
            let (k, s, p, d, size) = (k[i], s[i], p[i], d[i], size[i]);
            // what a failed check names, formatted without allocating (no_std)
            let ctx = AxisCtx { axis: axis[i], size, k, s, p, d };
            assert!(s > 0, "Geom: stride must be > 0 ({ctx})");
            assert!(k > 0, "Geom: kernel size must be > 0 ({ctx})");
            assert!(d > 0, "Geom: dilation must be > 0 ({ctx})");
            let span = d * (k - 1) + 1;
            assert!(
                span <= size + 2 * p,
                "Geom: kernel spanning {span} does not fit the padded input {} ({ctx})",
                size + 2 * p,
            );
            out[i] = (size + 2 * p - span) / s + 1;
        }
        let [kh, kw] = k;
        let ([sh, sw], [ph, pw], [dh, dw]) = (s, p, d);
        Geom { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho: out[0], wo: out[1] }
    }

    /// The window's taps, `KH·KW`: each input channel's share of an im2col column.
    ///
    /// ```
    /// use typed_cnn::kernels::Geom;
    /// assert_eq!(Geom::rect(1, 9, 9, [1, 7], [1, 1], [0, 3], [1, 1]).taps(), 7);
    /// ```
    pub fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// `(k, s, p)` of a square window without dilation, for the pooling kernels.
    ///
    /// **Panics** (naming `who`) if the window is not square, the strides or paddings differ
    /// between the axes, or the window is dilated.
    #[cfg(feature = "std")]
    #[track_caller]
    pub(crate) fn square(&self, who: &str) -> (usize, usize, usize) {
        assert!(
            self.kh == self.kw
                && self.sh == self.sw
                && self.ph == self.pw
                && self.dh == 1
                && self.dw == 1,
            "{who}: needs a square, undilated window with equal strides and paddings, got {self:?}"
        );
        (self.kh, self.sh, self.ph)
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
        self.taps() == 1 && self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0
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
