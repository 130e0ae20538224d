//! The naive reference for convolution (test-only): direct loops straight from the definition,
//! an independent oracle for [`super`]'s im2col + GEMM kernels. Nothing here is meant for
//! training: no im2col, no GEMM, no blocking.

use crate::Float;
use crate::kernels::Geom;

/// Slow, obviously-correct oracle for [`super::forward`]:
/// `y[n,o,i,j] = bias[o] + Σ_{c,a,b} weight[o,c,a,b] · x[n,c,i·SH+a·DH−PH, j·SW+b·DW−PW]`, zero
/// padding.
///
/// `x: (N, C, H, W)`, `weight: (COUT, C, KH, KW)`, `bias: (COUT)`, `y: (N, COUT, HO, WO)`
/// (overwritten). **Panics** on a length mismatch.
#[track_caller]
pub fn conv_forward_naive<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo } = *g;
    assert_eq!(x.len(), n * c * h * w, "conv_forward_naive: x");
    assert_eq!(weight.len(), cout * c * kh * kw, "conv_forward_naive: weight");
    assert_eq!(y.len(), n * cout * ho * wo, "conv_forward_naive: y");
    if let Some(b) = bias {
        assert_eq!(b.len(), cout, "conv_forward_naive: bias");
    }
    // y: (N, COUT, HO, WO); sum over (C, K, K)
    for ni in 0..n {
        for o in 0..cout {
            for i in 0..ho {
                for j in 0..wo {
                    let mut acc = match bias {
                        Some(b) => b[o],
                        None => E::ZERO,
                    };
                    for ci in 0..c {
                        for a in 0..kh {
                            for b in 0..kw {
                                // input coordinate (i·SH + a·DH − PH, j·SW + b·DW − PW), skipped if padding
                                let yy = (i * sh + a * dh) as isize - ph as isize;
                                let xx = (j * sw + b * dw) as isize - pw as isize;
                                if yy < 0 || yy >= h as isize || xx < 0 || xx >= w as isize {
                                    continue;
                                }
                                let (yy, xx) = (yy as usize, xx as usize);
                                acc += weight[((o * c + ci) * kh + a) * kw + b]
                                    * x[((ni * c + ci) * h + yy) * w + xx];
                            }
                        }
                    }
                    y[((ni * cout + o) * ho + i) * wo + j] = acc;
                }
            }
        }
    }
}

/// Slow, obviously-correct oracle for [`super::backward`], by the same loops as
/// [`conv_forward_naive`] with every multiply-add differentiated.
///
/// ACCUMULATES (`+=`) into `dx: (N, C, H, W)` (if `Some`), `dweight: (COUT, C, KH, KW)` and
/// `dbias: (COUT)` (if `Some`), given `dy: (N, COUT, HO, WO)`. **Panics** on a length mismatch.
#[track_caller]
pub fn conv_backward_naive<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    dy: &[E],
    mut dx: Option<&mut [E]>,
    dweight: &mut [E],
    mut dbias: Option<&mut [E]>,
) {
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo } = *g;
    assert_eq!(x.len(), n * c * h * w, "conv_backward_naive: x");
    assert_eq!(weight.len(), cout * c * kh * kw, "conv_backward_naive: weight");
    assert_eq!(dy.len(), n * cout * ho * wo, "conv_backward_naive: dy");
    assert_eq!(dweight.len(), cout * c * kh * kw, "conv_backward_naive: dweight");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), n * c * h * w, "conv_backward_naive: dx");
    }
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), cout, "conv_backward_naive: dbias");
    }
    // dy: (N, COUT, HO, WO); each output element fans back over (C, K, K)
    for ni in 0..n {
        for o in 0..cout {
            for i in 0..ho {
                for j in 0..wo {
                    let g_out = dy[((ni * cout + o) * ho + i) * wo + j];
                    if let Some(db) = dbias.as_deref_mut() {
                        db[o] += g_out;
                    }
                    for ci in 0..c {
                        for a in 0..kh {
                            for b in 0..kw {
                                let yy = (i * sh + a * dh) as isize - ph as isize;
                                let xx = (j * sw + b * dw) as isize - pw as isize;
                                if yy < 0 || yy >= h as isize || xx < 0 || xx >= w as isize {
                                    continue;
                                }
                                let (yy, xx) = (yy as usize, xx as usize);
                                let wi = ((o * c + ci) * kh + a) * kw + b;
                                let xi = ((ni * c + ci) * h + yy) * w + xx;
                                dweight[wi] += g_out * x[xi];
                                if let Some(dx) = dx.as_deref_mut() {
                                    dx[xi] += g_out * weight[wi];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-worked example of [`conv_forward_naive`].
    #[test]
    fn conv_forward_naive_example() {
        let g = Geom::new(1, 3, 3, 2, 1, 0);
        let x = [2., -3., 4., 1., -1., 2., -1., 2., 3.]; // [[2 −3 4], [1 −1 2], [−1 2 3]]
        let mut y = [0.0f64; 4];
        conv_forward_naive(&g, 1, 1, &x, &[3., -1., 4., 2.], None, &mut y);
        // y[0, 1] = 3·(−3) − 1·4 + 4·(−1) + 2·2 = −13
        assert_eq!(y, [11., -13., 4., 9.]);
    }

    /// The hand-worked example of [`conv_backward_naive`].
    #[test]
    fn conv_backward_naive_example() {
        let g = Geom::new(1, 3, 3, 2, 1, 0);
        let (x, w, dy) = ([1., 2., 3., 4., 5., 6., 7., 8., 9.], [1., 2., 3., 4.], [1.0; 4]);
        let (mut dx, mut dw, mut db) = ([0.0f64; 9], [0.0; 4], [0.0; 1]);
        conv_backward_naive(&g, 1, 1, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
        // dy = 1: dW[a, b] sums the window at offset (a, b), e.g. 1 + 2 + 4 + 5; db counts outputs
        assert_eq!((dw, db), ([12., 16., 24., 28.], [4.]));
        // dx sums the weights that touched each pixel: 1 + 2 + 3 + 4 = 10 in the centre
        assert_eq!(dx, [1., 3., 2., 4., 10., 6., 3., 7., 4.]);
    }
}
