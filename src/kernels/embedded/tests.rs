//! The embedded kernels against the `std` kernels' naive references, in `f64`, over random
//! geometries (strides, padding, dilation, rectangles, groups, batches).

use super::*;
use crate::kernels::conv::naive::{conv_backward_naive, conv_forward_naive};
use crate::kernels::linear::naive::linear_forward_naive;
use crate::kernels::pool::naive::{avgpool_forward_naive, maxpool_forward_naive};
use crate::testing::Rng;

fn close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{what}: [{i}] got {g}, want {w}");
    }
}

/// A random size in `lo..=hi`.
fn pick(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    lo + ((rng.uniform() + 1.0) / 2.0 * (hi - lo + 1) as f64) as usize % (hi - lo + 1)
}

#[test]
fn conv2d_matches_the_naive_reference_on_random_geometries_and_groups() {
    let mut rng = Rng::new(41);
    for case in 0..400 {
        let groups = [1, 1, 2, 3][case % 4];
        let (cin_g, cout_g) = (pick(&mut rng, 1, 3), pick(&mut rng, 1, 3));
        let (c, cout) = (cin_g * groups, cout_g * groups);
        let (kh, kw) = (pick(&mut rng, 1, 4), pick(&mut rng, 1, 4));
        let (sh, sw, dh, dw) = (
            pick(&mut rng, 1, 3),
            pick(&mut rng, 1, 3),
            pick(&mut rng, 1, 2),
            pick(&mut rng, 1, 2),
        );
        let (ph, pw) = (pick(&mut rng, 0, 2), pick(&mut rng, 0, 2));
        let h = (dh * (kh - 1) + 1).saturating_sub(2 * ph).max(1) + pick(&mut rng, 0, 6);
        // up to 26 wide: rows with several 8-output blocks, interior and border, and remainders
        let w = (dw * (kw - 1) + 1).saturating_sub(2 * pw).max(1) + pick(&mut rng, 0, 22);
        let n = pick(&mut rng, 1, 2);
        let g = Geom::rect(c, h, w, [kh, kw], [sh, sw], [ph, pw], [dh, dw]);
        let x = rng.vec(n * c * h * w);
        let weight = rng.vec(cout * cin_g * kh * kw);
        let bias = rng.vec(cout);
        let with_bias = case % 3 != 0;
        let mut got = vec![f64::NAN; n * cout * g.ho * g.wo];
        conv2d(&g, n, cout, groups, &x, &weight, with_bias.then_some(&bias[..]), &mut got);
        // the reference, one group at a time: the group's input channels and filters
        let gg = Geom { c: cin_g, ..g };
        let plane = g.ho * g.wo;
        let mut want = vec![0.0; got.len()];
        for img in 0..n {
            for grp in 0..groups {
                let xs = &x[(img * c + grp * cin_g) * h * w..][..cin_g * h * w];
                let ws = &weight[grp * cout_g * cin_g * kh * kw..][..cout_g * cin_g * kh * kw];
                let bs = &bias[grp * cout_g..][..cout_g];
                let mut y = vec![0.0; cout_g * plane];
                conv_forward_naive(&gg, 1, cout_g, xs, ws, with_bias.then_some(bs), &mut y);
                want[(img * cout + grp * cout_g) * plane..][..cout_g * plane].copy_from_slice(&y);
            }
        }
        close(&got, &want, &format!("case {case}: {g:?}, groups {groups}"));
    }
}

#[test]
fn linear_matches_the_naive_reference() {
    let mut rng = Rng::new(43);
    for (n, i, o) in [(1, 1, 1), (1, 256, 120), (3, 7, 5), (2, 84, 10)] {
        let (x, w, b) = (rng.vec(n * i), rng.vec(o * i), rng.vec(o));
        let (mut got, mut want) = (vec![f64::NAN; n * o], vec![0.0; n * o]);
        linear(n, i, o, &x, &w, Some(&b), &mut got);
        linear_forward_naive(n, i, o, &x, &w, &b, &mut want);
        close(&got, &want, &format!("{n}×{i} → {o}"));
        linear(n, i, o, &x, &w, None, &mut got);
        linear_forward_naive(n, i, o, &x, &w, &vec![0.0; o], &mut want);
        close(&got, &want, &format!("{n}×{i} → {o}, no bias"));
    }
}

#[test]
fn pooling_matches_the_naive_references() {
    let mut rng = Rng::new(47);
    for case in 0..200 {
        let (k, s) = (pick(&mut rng, 1, 4), pick(&mut rng, 1, 3));
        let p = pick(&mut rng, 0, k / 2);
        let (h, w) = (k + pick(&mut rng, 0, 7), k + pick(&mut rng, 0, 7));
        let (n, c) = (pick(&mut rng, 1, 2), pick(&mut rng, 1, 3));
        let g = Geom::new(c, h, w, k, s, p);
        let x = rng.vec(n * c * h * w);
        let len = n * c * g.ho * g.wo;
        let (mut got, mut want) = (vec![f64::NAN; len], vec![0.0; len]);
        maxpool(&g, n, &x, &mut got);
        maxpool_forward_naive(&g, n, &x, &mut want);
        close(&got, &want, &format!("max, case {case}: {g:?}"));
        for include in [false, true] {
            avgpool(&g, n, include, &x, &mut got);
            avgpool_forward_naive(&g, n, include, &x, &mut want);
            close(&got, &want, &format!("avg (include pad {include}), case {case}: {g:?}"));
        }
    }
}

#[test]
fn valid_ranges_are_the_outputs_whose_input_is_real() {
    for (out, len, s, off) in
        [(5, 5, 1, -2), (4, 7, 2, 1), (3, 2, 3, -1), (6, 6, 1, 3), (2, 1, 1, -3)]
    {
        let want: Vec<usize> = (0..out)
            .filter(|&o| (0..len as isize).contains(&(o as isize * s as isize + off)))
            .collect();
        let got: Vec<usize> = valid(out, len, s, off).collect();
        assert_eq!(got, want, "out {out} len {len} s {s} off {off}");
    }
}

/// The transposed convolution is the input gradient of a convolution: `conv_backward_naive`'s
/// `dx` for `dy = x`, with the weight `(CIN, COUT, K, K)` read as the convolution's
/// `(COUT_conv = CIN, CIN_conv = COUT, K, K)`, plus the bias.
#[test]
fn conv_transpose2d_is_the_naive_input_gradient_plus_bias() {
    let mut rng = Rng::new(53);
    for case in 0..150 {
        let (cin, cout) = (pick(&mut rng, 1, 3), pick(&mut rng, 1, 3));
        let k = pick(&mut rng, 1, 4);
        let s = pick(&mut rng, 1, 3);
        let p = pick(&mut rng, 0, k - 1);
        let (h, w) = (pick(&mut rng, 1, 5), pick(&mut rng, 1, 5));
        // output size of the transposed convolution, no output padding
        let (ho, wo) = ((h - 1) * s + k, (w - 1) * s + k);
        if ho <= 2 * p || wo <= 2 * p {
            continue;
        }
        let (ho, wo) = (ho - 2 * p, wo - 2 * p);
        let g = Geom::new(cout, ho, wo, k, s, p);
        if (g.ho, g.wo) != (h, w) {
            continue; // a stride that does not tile this output: not a transposed shape
        }
        let n = pick(&mut rng, 1, 2);
        let (x, weight, bias) =
            (rng.vec(n * cin * h * w), rng.vec(cin * cout * k * k), rng.vec(cout));
        let mut got = vec![f64::NAN; n * cout * ho * wo];
        conv_transpose2d(&g, n, cin, &x, &weight, Some(&bias), &mut got);
        let mut want = vec![0.0; got.len()];
        let (mut dw, mut db) = (vec![0.0; weight.len()], vec![0.0; cin]);
        let zeros = vec![0.0; want.len()];
        conv_backward_naive(
            &g,
            n,
            cin,
            &zeros,
            &weight,
            &x,
            Some(&mut want),
            &mut dw,
            Some(&mut db),
        );
        for (i, v) in want.iter_mut().enumerate() {
            *v += bias[(i / (ho * wo)) % cout];
        }
        close(&got, &want, &format!("case {case}: {g:?}"));
    }
}

/// A NaN in a window is the window's maximum wherever it stands, as in PyTorch; −∞ padding
/// never wins over a real value.
#[test]
fn maxpool_propagates_nan_and_ignores_padding() {
    let g = Geom::new(1, 2, 4, 2, 2, 0); // two 2×2 windows
    let mut y = [0.0f32; 2];
    maxpool(&g, 1, &[1., f32::NAN, 7., 8., 3., 2., 9., -1.], &mut y);
    assert!(y[0].is_nan() && y[1] == 9.0, "{y:?}");
    maxpool(&g, 1, &[f32::NAN, 5., 7., 8., 3., 2., 9., f32::NAN], &mut y);
    assert!(y[0].is_nan() && y[1].is_nan(), "{y:?}");
    let g = Geom::new(1, 1, 1, 3, 1, 1); // one value, padded to 3×3
    let mut y = [0.0f32; 1];
    maxpool(&g, 1, &[-5.0], &mut y);
    assert_eq!(y, [-5.0]);
}
