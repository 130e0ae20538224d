//! Random shape grids shared by the conv and pool kernel tests (test-only): a seeded generator
//! of our own and the `(K, S, P, CIN, COUT, H, W, N)` shapes it draws. Every shape is drawn by a
//! seeded generator, so a failure names a reproducible shape; `cargo test --release --lib
//! kernels -- --nocapture` prints how many distinct shapes each grid covered.

use crate::kernels::Geom;
use crate::testing::assert_close;

/// SplitMix64: a small seeded generator of our own (no new dependency).
pub(crate) struct Gen(pub(crate) u64);

impl Gen {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
    /// Uniform in `[-1, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    pub(crate) fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.unit()).collect()
    }
    /// Small integers in `-2..=2`: many ties, for the max-pooling tie rule.
    pub(crate) fn ties(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.range(0, 4) as f64 - 2.0).collect()
    }
}

/// [`assert_close`] (the project's tolerance), naming the kernel and the shape on failure.
pub(crate) fn close(what: &str, ctx: &str, got: &[f64], want: &[f64]) {
    if let Err(e) = std::panic::catch_unwind(|| assert_close(got, want)) {
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        panic!("{what} differs for {ctx}: {msg}");
    }
}

/// One convolution case: `(K, S, P, CIN, COUT, H, W, N)` with `H ≠ W` and the window fitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ConvShape {
    pub(crate) k: usize,
    pub(crate) s: usize,
    pub(crate) p: usize,
    pub(crate) cin: usize,
    pub(crate) cout: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) n: usize,
}

impl ConvShape {
    pub(crate) fn random(g: &mut Gen, pool: bool) -> Self {
        let k = g.range(1, 5);
        let s = g.range(1, 3);
        // Pooling keeps PyTorch's 2P ≤ K (no window wholly in the padding).
        let p = if pool { g.range(0, k / 2) } else { g.range(0, 2) };
        let (cin, cout) = (g.range(1, 5), if pool { 0 } else { g.range(1, 5) });
        // The smallest side the window fits, up to a few strides beyond it.
        let lo = k.saturating_sub(2 * p).max(1);
        let h = g.range(lo, lo + 3 * s + 4);
        let w = loop {
            let w = g.range(lo, lo + 3 * s + 4);
            if w != h {
                break w;
            }
        };
        ConvShape { k, s, p, cin, cout, h, w, n: g.range(1, 11) }
    }
    pub(crate) fn geom(&self) -> Geom {
        Geom::new(self.cin, self.h, self.w, self.k, self.s, self.p)
    }
    /// The stride does not tile the padded input on some axis (floor mode drops a remainder).
    pub(crate) fn floors(&self) -> bool {
        !(self.h + 2 * self.p - self.k).is_multiple_of(self.s)
            || !(self.w + 2 * self.p - self.k).is_multiple_of(self.s)
    }
}

/// A convolution case as the kernels see it: the geometry (square or not, dilated or not), the
/// batch and the output channels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Case2 {
    pub(crate) geom: Geom,
    pub(crate) n: usize,
    pub(crate) cout: usize,
}

impl From<&ConvShape> for Case2 {
    fn from(c: &ConvShape) -> Self {
        Case2 { geom: c.geom(), n: c.n, cout: c.cout }
    }
}

impl Case2 {
    /// A random rectangular, dilated case: per axis a kernel 1..=4, stride 1..=3, padding 0..=2
    /// and dilation 1..=3, the input 1 to 3 strides larger than the smallest that fits.
    pub(crate) fn random_rect(g: &mut Gen) -> Self {
        let (mut k, mut s, mut p, mut d, mut size) = ([0; 2], [0; 2], [0; 2], [0; 2], [0; 2]);
        for axis in 0..2 {
            (k[axis], s[axis], p[axis], d[axis]) =
                (g.range(1, 4), g.range(1, 3), g.range(0, 2), g.range(1, 3));
            let span = d[axis] * (k[axis] - 1) + 1;
            let lo = span.saturating_sub(2 * p[axis]).max(1);
            size[axis] = g.range(lo, lo + 3 * s[axis] + 2);
        }
        let geom = Geom::rect(g.range(1, 4), size[0], size[1], k, s, p, d);
        Case2 { geom, n: g.range(1, 6), cout: g.range(1, 4) }
    }
    pub(crate) fn weights(&self) -> usize {
        self.cout * self.geom.c * self.geom.taps()
    }
    pub(crate) fn x_len(&self) -> usize {
        self.n * self.geom.c * self.geom.h * self.geom.w
    }
    pub(crate) fn y_len(&self) -> usize {
        self.n * self.cout * self.geom.ho * self.geom.wo
    }
}
