//! [`Infer`] and [`View`] for tuples of up to 12 layers: members run in order, their
//! intermediate activations alternating between two buffers of the workspace (an element-wise
//! member computes over its input, in the same buffer), so a chain of any length keeps two
//! activations alive, each buffer as long as the longest activation it ever holds.

use super::{Infer, Layout, Name, SafeTensors, View, ViewError};

/// Where the current activation is while a tuple runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The network's input.
    Input,
    /// The first buffer.
    P,
    /// The second buffer.
    Q,
}

/// The lengths of the two buffers a tuple's members need: `outs[i]` is member `i`'s output
/// length and `in_place[i]` its [`Infer::IN_PLACE`], for every member but the last (which
/// writes the tuple's output). The same walk as [`step`], at compile time.
pub const fn buffers(outs: &[usize], in_place: &[bool]) -> [usize; 2] {
    let mut len = [0, 0];
    let mut at = At::Input;
    let mut i = 0;
    while i < outs.len() {
        if !in_place[i] || matches!(at, At::Input) {
            let to = if matches!(at, At::P) { 1 } else { 0 };
            if outs[i] > len[to] {
                len[to] = outs[i];
            }
            at = if to == 0 { At::P } else { At::Q };
        }
        i += 1;
    }
    len
}

/// `buffers` for a chain of all the members (the last one's output is the chain's, not in a
/// buffer): [`network!`](crate::network!)'s chains, of any length.
pub const fn buffers_but_last(outs: &[usize], in_place: &[bool]) -> [usize; 2] {
    match (outs.split_last(), in_place.split_last()) {
        (Some((_, outs)), Some((_, in_place))) => buffers(outs, in_place),
        _ => [0, 0],
    }
}

/// Member `m` of a chain: `last` if `is_last`, else `step`.
#[inline]
#[allow(clippy::too_many_arguments, reason = "the chain's state and buffers")]
pub fn step_or_last<M: Infer<I>, I: Layout>(
    m: &M,
    at: &mut At,
    is_last: bool,
    x: &[I::Elem],
    p: &mut [I::Elem],
    q: &mut [I::Elem],
    y: &mut [I::Elem],
    work: &mut [I::Elem],
) {
    if is_last { last(m, *at, x, p, q, y, work) } else { step(m, at, x, p, q, work) }
}

/// The larger of `a` and `b`, in constants.
pub const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Runs member `m` (not the last) on the current activation: over it if the member is
/// element-wise and the activation is in a buffer, else into the other buffer.
#[inline]
pub fn step<M: Infer<I>, I: Layout>(
    m: &M,
    at: &mut At,
    x: &[I::Elem],
    p: &mut [I::Elem],
    q: &mut [I::Elem],
    work: &mut [I::Elem],
) {
    let (inp, out) = (I::LEN, <M::Output as Layout>::LEN);
    let work = &mut work[..M::WORK];
    match *at {
        At::Input => {
            m.infer_into(&x[..inp], &mut p[..out], work);
            *at = At::P;
        }
        At::P if M::IN_PLACE => m.infer_in_place(&mut p[..inp]),
        At::Q if M::IN_PLACE => m.infer_in_place(&mut q[..inp]),
        At::P => {
            m.infer_into(&p[..inp], &mut q[..out], work);
            *at = At::Q;
        }
        At::Q => {
            m.infer_into(&q[..inp], &mut p[..out], work);
            *at = At::P;
        }
    }
}

/// Runs the last member from the current activation into the tuple's output.
#[inline]
pub fn last<M: Infer<I>, I: Layout>(
    m: &M,
    at: At,
    x: &[I::Elem],
    p: &[I::Elem],
    q: &[I::Elem],
    y: &mut [I::Elem],
    work: &mut [I::Elem],
) {
    let inp = I::LEN;
    let src = match at {
        At::Input => &x[..inp],
        At::P => &p[..inp],
        At::Q => &q[..inp],
    };
    m.infer_into(src, y, &mut work[..M::WORK]);
}

/// Index names of tuple members, `"0"` to `"11"`.
const INDEX: [&str; 12] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"];

/// `tuple_infer!([A 0 In X0, B 1 X0 X1] [A 0 In X0] B 1 X0 X1;)`: member `A` at index 0 maps
/// `In` to `X0`, …; then the members but the last, then the last.
macro_rules! tuple_infer {
    ($([$($T:ident $i:tt $Xin:ident $Xout:ident),+]
        [$($Tm:ident $im:tt $Xmin:ident $Xm:ident),*] $TL:ident $iL:tt $XinL:ident $Last:ident;)+) => {$(
        impl<In: Layout, $($T, $Xout: Layout<Elem = In::Elem>),+> Infer<In> for ($($T,)+)
        where
            $($T: Infer<$Xin, Output = $Xout>),+
        {
            type Output = $Last;
            const WORK: usize = {
                let [p, q] = buffers(
                    &[$(<$Xm as Layout>::LEN),*],
                    &[$(<$Tm as Infer<$Xmin>>::IN_PLACE),*],
                );
                let mut inner = 0;
                $(inner = max(inner, <$T as Infer<$Xin>>::WORK);)+
                p + q + inner
            };
            const WEIGHTS: usize = 0 $(+ <$T as Infer<$Xin>>::WEIGHTS)+;

            #[allow(unused_mut, unused_variables)]
            fn infer_into(&self, x: &[In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]) {
                let [p, q] = buffers(
                    &[$(<$Xm as Layout>::LEN),*],
                    &[$(<$Tm as Infer<$Xmin>>::IN_PLACE),*],
                );
                let (p_buf, rest) = work.split_at_mut(p);
                let (q_buf, inner) = rest.split_at_mut(q);
                let mut at = At::Input;
                $(step(&self.$im, &mut at, x, p_buf, q_buf, inner);)*
                last(&self.$iL, at, x, p_buf, q_buf, y, inner);
            }
        }

        impl<$($T: View),+> View for ($($T,)+) {
            fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
                Ok(($($T::view_at(file, &prefix.join(INDEX[$i]))?,)+))
            }
        }
    )+};
}

tuple_infer! {
    [A 0 In X0]
        [] A 0 In X0;
    [A 0 In X0, B 1 X0 X1]
        [A 0 In X0] B 1 X0 X1;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2]
        [A 0 In X0, B 1 X0 X1] C 2 X1 X2;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2] D 3 X2 X3;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3] F 4 X3 X4;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4] G 5 X4 X5;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5] H 6 X5 X6;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6] I 7 X6 X7;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7] J 8 X7 X8;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8, K 9 X8 X9]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8] K 9 X8 X9;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8, K 9 X8 X9, L 10 X9 X10]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8, K 9 X8 X9] L 10 X9 X10;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8, K 9 X8 X9, L 10 X9 X10, M 11 X10 X11]
        [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7, J 8 X7 X8, K 9 X8 X9, L 10 X9 X10] M 11 X10 X11;
}
