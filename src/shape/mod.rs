//! Type-level shapes: the dimension legend, the decimal table for compiler messages, and the
//! compile-time output-size rule `(H + 2P − K)/S + 1` of convolution and pooling.
//!
//! Users never write typenum: tensors and layers take plain `usize` const generics and this module
//! turns them into typenum numbers through the [size table](Size) (`Num<N>`: 0 to 4096 and the
//! multiples of 16 up to 16,384), computes output sizes with typenum arithmetic on stable Rust,
//! and turns them back into decimals (`Dim<24>`) for the messages of failed shape checks. Code
//! generic over a size bounds it with `Dims<C>: Size` (see [`Size`]).
//!
//! # The legend
//!
//! One set of letters for dimensions, in type parameters, docs and kernel comments alike:
//! `N` batch, `CIN`/`COUT` input and output channels (`C` for a channel count that is not
//! renamed), `H, W` input height and width, `K` kernel, `S` stride, `P` padding, `HO, WO` output
//! height and width, `IN, OUT` features (`F` for a feature count that is neither, as in
//! `Tensor2<N, F>`), `CLASSES` a class count (`Labels<N, CLASSES>`).
//!
//! The other parameters in this module are not dimensions: `L` the layer a message names, `A` the
//! axis ([`Height`] or [`Width`]), `M` the stride mode ([`Exact`] or [`Floor`]), `HD` the decimal
//! form [`Show<H>`](Show) of an input size, `E` the element type.
//!
//! # Adding a shape rule
//!
//! A shape rule is a trait bound that fails at `cargo check` with a message of its own:
//!
//! 1. Compute the condition as a typenum type: a comparison (`Eq<C, Num<CIN>>` from `IsEqual`,
//!    `GrEq<…>`) or a remainder (`Mod<…>`).
//! 2. Declare a **marker trait** implemented only for the passing value (`B1`, typenum's `True`,
//!    or `U0` for a remainder), with the layer `L` and the numbers its message prints as
//!    parameters, the numbers in decimal: const parameters, or [`Show<H>`](Show) for a computed
//!    size. [`KernelFits`] is the model.
//! 3. Put **`#[diagnostic::on_unimplemented(message, label, note)]`** on the marker: the message
//!    names the layer (`{L}`) and the sizes, the label says what is wrong at the call, the note how
//!    to fix it.
//! 4. Require `Condition: Marker<L, …>` where the computation is: in the layer's `LayerInput`
//!    impl for its input rank (the crate's layers; see [`crate::layers::LayerInput`]) and its
//!    [`Infer`](crate::infer::Infer) impl, or `Forward` impl (a layer of your own), or in the
//!    [`Window`] impl for a rule of every window layer. A
//!    rule of training mode only goes in the layer's cache type ([`crate::TrainCache`]).
//! 5. Pin the message with a **ui case**: `ui-tests/fail/<rule>.rs` and its `.stderr` snapshot,
//!    run by trybuild from `tests/ui.rs` (`TRYBUILD=overwrite cargo test --release --test ui`
//!    writes the snapshot: read it before committing), plus a `compile_fail` doctest on the marker.
//!
//! Pitfalls, each met on stable Rust 1.95 (numbered as in the project's design notes):
//!
//! - **Compare, never unify** (4, 14). An identity marker (`impl<T> Same<T> for T`) or an equality
//!   bound (`Dims<CIN>: Size<Output = C>`) steers type inference inside tuple networks and
//!   reports binary typenum (E0271, E0308) instead of the message. Compare with `IsEqual` and a
//!   marker for `True`, as [`ShapeEq`] and [`ChannelsMatch`] do. ([`ShapeIs`] is the one identity
//!   marker: `expect_shape` applies it to a tensor whose shape is already known, both sides in
//!   decimal.)
//! - **Bounds on methods, not impls** (3, 13). The user-facing `Module::forward` carries its
//!   `Self: Forward<In>` bound on the method; on a tuple chain an impl-level bound degrades into
//!   E0599 "no method named `forward`". Give a layer one `Forward` impl, generic over the input
//!   (`In: LayerInput<Layer>`, see [`crate::layers::LayerInput`]): with one impl per rank, a bound
//!   that fails whatever the input (stride 0, a size outside the table) rules out the right impl
//!   before the input is known, and the compiler takes the input to be of the other rank (E0308).
//!   The wrong rank is a `LayerInput` impl whose marker ([`FlatInput`], [`ImageInput`]) has the
//!   input's last size as its `Self`, so that it waits until the size is computed instead of
//!   printing `_`.
//! - **No size projection with an unknown size** (new in issue 11). rustc reads a call's bounds
//!   and signature before its arguments; a `Num<C>` (or a `Tensor<N, C, H, W>` argument, which
//!   contains one) whose `C` is still unknown there makes the old trait solver try every entry of
//!   the size table: about 50 million instructions, some 15 ms, once per crate. Public functions
//!   whose sizes are inferred take a type whose bound waits instead ([`crate::loss::cross_entropy`]
//!   takes `L: ClassLabels<N, F>`); methods on a typed receiver are not affected.
//! - **No bound on a whole network's associated types beyond its output** (new in issue 12).
//!   Every user function that names `<Net as Forward<In>>::Cache` (a bound on it, a local whose
//!   drop check walks it) makes the compiler derive it layer by layer again, as costly as the
//!   output type: for ResNet-18 training, 0.7 s of a 2.1 s `cargo check`. [`crate::Trainable`]
//!   decides batch norm's rule from the input's batch, and [`crate::Trace`] has a `Drop` impl of
//!   its own so that drop checks stop at it.
//! - **No post-monomorphization const asserts** (15). `const { assert!(…) }` fires only at
//!   `cargo build`, with no line of the user's code: anything a user can get wrong is a bound.
//! - **Guard the arithmetic so only the marker fails** (5, 6). Exact division is `Mod` plus a
//!   marker for `U0` (`PartialDiv` overflows with E0275); subtract from `Max<…>` behind an
//!   `IsGreaterOrEqual` marker ([`Span`]) and divide by `max(S, 1)` ([`Divisor`]), so typenum's
//!   own "cannot subtract `B1` from `UInt<…>`" never shows.
//! - **Messages print decimals through the table `Dim<N>`** (1, 7, 8). Write sizes through
//!   [`Show`], which maps `0..=1023` to [`Dim<N>`](Dim) and larger numbers to [`Thousands`]. The
//!   table names concrete types (coherence rejects `impl X for Num<0>` beside `impl X for Num<1>`,
//!   E0119), so it is generated (`scripts/gen_decimal_table.py`); keep it near 1k entries, as
//!   trait-impl tables slow every build. A wrong output annotation still prints binary: point
//!   users to `expect_shape`.
//! - **Written sizes go through [`Num<N>`](Num), never typenum's `U<N>`** (1). typenum's
//!   `Const<N>: ToUInt` stops at 1024 (plus powers of two and ten) with rustc's bare "trait bound
//!   not satisfied"; the [`Size`] table reaches 16,384 and names the number. Its ~4,900 impls
//!   share one self type, so coherence compares them pairwise: about 1 s of every build of the
//!   crate, and well-formedness checks about 1 s more, growing faster than the table. Measure
//!   before adding entries.
//! - **Unique names** (11). A second item named like a shape type anywhere in the crate (a
//!   `Shape` variant did it, twice: issue 14's `ViewErrorKind::Shape` broke nine ui snapshots)
//!   makes every message print full paths.
//! - **Two builds** (new in issue 14). Without the `std` feature only the shapes, the layer
//!   types, [`crate::infer`] and `kernels::embedded` compile. A rule goes in the layer's
//!   `Infer` impl as well as its `LayerInput` impl (the same bounds, so both paths report it),
//!   and a layer's training parts stay behind `#[cfg(feature = "std")]`; `.ci/embedded.sh`
//!   builds the crate both ways.
//! - **Pinned snapshots** (10). `.stderr` wording changes between rustc versions: the suite is
//!   pinned to rustc 1.95. Its fail cases run apart from the pass cases, so that trybuild checks
//!   them with `cargo check`, which a post-monomorphization assert would pass.

use core::marker::PhantomData;
use core::ops::{Add, Div, Mul, Rem, Sub};
use typenum::{
    B1, Bit, Gr, GrEq, IsEqual, IsGreater, IsGreaterOrEqual, Max, Maximum, Mod, Quot, U0, U1,
    U1000, UInt, Unsigned,
};

mod decimal_table;
mod dilated;
mod size_table;

pub use dilated::{
    DilatedOut, DilatedSpan, DilatedWindow, DilationNonZero, Reach, ReachFits, ReachMode,
    ReachTiles,
};

/// A size as written in a type: `Dims<1280>` is the number 1280 that a [`Size`] bound is about.
///
/// ```
/// use typed_cnn::shape::{Dims, Size};
/// use typenum::Unsigned;
/// assert_eq!(<<Dims<1280> as Size>::Num as Unsigned>::USIZE, 1280);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dims<const N: usize>;

/// The sizes a type can hold: every channel count, spatial size, feature count, class count,
/// kernel, stride and padding written in a tensor or layer type goes through this table to
/// its typenum number [`Num<N>`](Num), on which the shape rules compute.
///
/// Supported: **every number from 0 to 4096, and the multiples of 16 up to 16,384** (1280, 1536,
/// 1920, 2160, 3072, 3840, 4320, 7680, 9216, 12,544, …). Sizes the crate computes (a layer's
/// output size, a flattened feature count `C·H·W`) are not limited. Any other number is an
/// error at `cargo check` naming it. Stable Rust cannot turn a const generic into a type by
/// arithmetic, so the table names each number (`scripts/gen_size_table.py`), and a larger
/// table slows every build of the crate.
///
/// A function generic over a size needs this one bound per size it takes, and no `typenum`:
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::shape::{Dims, Size};
///
/// /// Any channel count: ReLU, then a 2×2 max-pool, then a 3×3 convolution to 8 channels.
/// fn block<const C: usize>(conv: &Conv2d<C, 8, 3, 1, 1>, x: Tensor<1, C, 4, 4>) -> Tensor<1, 8, 2, 2>
/// where
///     Dims<C>: Size,
/// {
///     let y: Tensor<1, C, 2, 2> = (Relu, MaxPool2d::<2>::default()).forward(x);
///     conv.forward(y)
/// }
/// let conv = Conv2d::<1280, 8, 3, 1, 1>::default();
/// let y = block(&conv, Tensor::<1, 1280, 4, 4>::zeros()); // C = 1280, from `conv`'s type
/// assert_eq!(y.shape(), [1, 8, 2, 2]);
///
/// /// A size that appears only inside `Tensor<…>` is spelled at the call: the compiler cannot
/// /// work the number back out of the typenum form that `Tensor` stores.
/// fn pool<const C: usize>(x: Tensor<1, C, 4, 4>) -> Tensor<1, C, 2, 2>
/// where
///     Dims<C>: Size,
/// {
///     MaxPool2d::<2>::default().forward(x)
/// }
/// let y = pool::<1280>(Tensor::<1, 1280, 4, 4>::zeros());
/// assert_eq!(y.shape(), [1, 1280, 2, 2]);
/// ```
///
/// A number outside the table is rejected where it is used, with the message of [`SizeTable`]:
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let _ = Tensor2::<1, 5000>::zeros(); // 5000 is neither ≤ 4096 nor a multiple of 16
/// ```
///
/// The bounds on [`Size::Num`] are what layers need of a size (its decimal form for messages,
/// and equality with itself), so that generic code needs no bound beyond `Dims<C>: Size`. They
/// are proven once here, for any `N` in the table: the table's entries carry none, since proving
/// them for each of its 4,865 entries would cost the crate's build seconds (measured: `Decimal`
/// and self-equality per entry, about 40 s; `Unsigned`, `Default`, `Copy`, `Send`, `Sync`,
/// about 0.5 s).
#[diagnostic::on_unimplemented(
    message = "`{Self}`: typed-cnn cannot write this number as a size in a type",
    label = "sizes written in a type are 0 to 4096, or multiples of 16 up to 16384",
    note = "for a `Linear` after `Flatten`, write the in-features as the shape they are flattened from: `FlatLinear<C, H, W, OUT>` (in-features C·H·W)",
    note = "there is no workaround for a channel count, an output feature count, a kernel, stride or padding, or an input size outside the table: choose a supported number (pad or crop the image)",
    note = "in a function generic over a size `C`, add the bound `where Dims<C>: Size` (both from `typed_cnn::shape`)"
)]
pub trait Size {
    /// The number as a typenum type.
    type Num: Unsigned
        + Decimal
        + IsEqual<Self::Num, Output = B1>
        + Default
        + Copy
        + Send
        + Sync
        + 'static;
}

impl<const N: usize> Size for Dims<N>
where
    Dims<N>: SizeTable,
    <Dims<N> as SizeTable>::Num: Unsigned
        + Decimal
        + IsEqual<<Dims<N> as SizeTable>::Num, Output = B1>
        + Default
        + Copy
        + Send
        + Sync
        + 'static,
{
    type Num = <Dims<N> as SizeTable>::Num;
}

/// The generated table behind [`Size`] (`scripts/gen_size_table.py`): one impl per supported
/// number, `Dims<1280>` to typenum's 1280. Write [`Size`] in bounds, not this trait.
#[diagnostic::on_unimplemented(
    message = "`{Self}`: typed-cnn cannot write this number as a size in a type",
    label = "sizes written in a type are 0 to 4096, or multiples of 16 up to 16384",
    note = "for a `Linear` after `Flatten`, write the in-features as the shape they are flattened from: `FlatLinear<C, H, W, OUT>` (in-features C·H·W)",
    note = "there is no workaround for a channel count, an output feature count, a kernel, stride or padding, or an input size outside the table: choose a supported number (pad or crop the image)",
    note = "in a function generic over a size `C`, add the bound `where Dims<C>: Size` (both from `typed_cnn::shape`)"
)]
pub trait SizeTable {
    /// The number as a typenum type.
    type Num;
}

/// A batch size a method can take: `Dims<N>: BatchSize` holds for every `N` of the size table
/// (see [`Size`]) except 0.
///
/// Most of the crate takes any batch size `N`, even 0 (an empty batch is an empty tensor). The
/// methods that divide by `N` or that would loop forever on it carry this bound instead, so that
/// `N = 0` is an error at `cargo check` rather than at run time: [`Dataset::batches`] and
/// [`Dataset::shuffled_batches`], [`predict`] and [`evaluate`] (and their `Dataset` methods).
/// Since the rule needs `N` as a typenum number, these methods take only the batch sizes of the
/// table: up to 4096, then multiples of 16 up to 16,384.
///
/// Generic code that calls them writes the same bound:
///
/// ```
/// use typed_cnn::data::Dataset;
/// use typed_cnn::shape::{BatchSize, Dims};
/// fn batch_count<const N: usize>(data: &Dataset<1, 1, 1, 10>) -> usize
/// where
///     Dims<N>: BatchSize,
/// {
///     data.batches::<N>().count()
/// }
/// let data = Dataset::<1, 1, 1, 10>::from_parts(vec![0.; 5], vec![0; 5]).unwrap();
/// assert_eq!(batch_count::<2>(&data), 3);
/// ```
///
/// ```compile_fail,E0277
/// use typed_cnn::data::Dataset;
/// let data = Dataset::<1, 1, 1, 10>::from_parts(vec![0.; 5], vec![0; 5]).unwrap();
/// let _ = data.batches::<0>(); // the batch size is 0, but it must be at least 1
/// ```
///
/// [`Dataset::batches`]: crate::data::Dataset::batches
/// [`Dataset::shuffled_batches`]: crate::data::Dataset::shuffled_batches
/// [`predict`]: crate::eval::predict
/// [`evaluate`]: crate::eval::evaluate
pub trait BatchSize {}

impl<const N: usize> BatchSize for Dims<N>
where
    Dims<N>: Size,
    Num<N>: IsGreater<U0>,
    Gr<Num<N>, U0>: BatchNonZero<N>,
{
}

/// Marker: the batch size `N` of a [`BatchSize`] bound is at least 1 (implemented for `True`).
#[diagnostic::on_unimplemented(
    message = "the batch size is {N}, but it must be at least 1",
    label = "a batch of 0 samples",
    note = "batches, shuffled_batches, predict and evaluate take batches of N ≥ 1 samples (a last partial batch is padded)"
)]
pub trait BatchNonZero<const N: usize> {}
impl<const N: usize> BatchNonZero<N> for B1 {}

/// A size written in a type as its typenum number: `Num<1280>` is typenum's 1280 (see [`Size`]
/// for the numbers it covers).
///
/// ```
/// use typed_cnn::shape::Num;
/// use typenum::Unsigned;
/// assert_eq!(<Num<9216> as Unsigned>::USIZE, 9216);
/// ```
pub type Num<const N: usize> = <Dims<N> as Size>::Num;

/// A dimension as a decimal const generic: what compiler messages print for a size (`Dim<24>`).
///
/// ```
/// use typed_cnn::shape::{Decimal, Dim};
/// let _: Dim<24> = <typed_cnn::shape::Num<24> as Decimal>::Dim::default();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dim<const N: usize>;

/// Maps a typenum number to its decimal form [`Dim<n>`](Dim) for compiler messages.
///
/// Implemented for every unsigned typenum number: `0..=1023` map to `Dim<n>` through a generated
/// table; larger numbers (`1024` and up, typically a flattened feature count such as
/// 64·12·12 = 9216) map to [`Thousands`], e.g. `Thousands<Dim<9>, Dim<216>>`. A larger table would
/// slow every build: trait-impl tables grow super-linearly in compile time (about 4 s for 4k
/// impls, 53 s for 16k, measured in the prototype).
///
/// ```
/// use typed_cnn::shape::{Decimal, Dim};
/// let _: Dim<12> = <typed_cnn::shape::Num<12> as Decimal>::Dim::default();
/// // 1024 and above print as thousands and remainder: 2048 = 2·1000 + 48
/// let _: typed_cnn::shape::Thousands<Dim<2>, Dim<48>> = <typenum::U2048 as Decimal>::Dim::default();
/// ```
pub trait Decimal {
    /// `Dim<n>` for `n < 1024`, the typenum number itself above.
    type Dim;
}

/// Numbers of 1024 and above (eleven or more binary digits) print as thousands and remainder,
/// `Thousands<Dim<9>, Dim<216>>` for 9216, each part through the table (or, above a million,
/// through this impl again).
impl<
    T,
    B0_: Bit,
    B1_: Bit,
    B2_: Bit,
    B3_: Bit,
    B4_: Bit,
    B5_: Bit,
    B6_: Bit,
    B7_: Bit,
    B8_: Bit,
    B9_: Bit,
    B10_: Bit,
> Decimal
    for UInt<
        UInt<
            UInt<
                UInt<
                    UInt<UInt<UInt<UInt<UInt<UInt<UInt<T, B10_>, B9_>, B8_>, B7_>, B6_>, B5_>, B4_>,
                    B3_,
                >,
                B2_,
            >,
            B1_,
        >,
        B0_,
    >
where
    Self: Div<U1000> + Rem<U1000>,
    Quot<Self, U1000>: Decimal,
    Mod<Self, U1000>: Decimal,
{
    type Dim = Thousands<Show<Quot<Self, U1000>>, Show<Mod<Self, U1000>>>;
}

/// The decimal form of a number of 1024 or more: `Thousands<Dim<9>, Dim<216>>` is
/// 9·1000 + 216 = 9216 (the remainder is not zero-padded: `Thousands<Dim<9>, Dim<16>>` is 9016).
///
/// ```
/// use typed_cnn::shape::{Decimal, Dim, Thousands};
/// // 2048 = 2·1000 + 48
/// let _: Thousands<Dim<2>, Dim<48>> = <typenum::U2048 as Decimal>::Dim::default();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Thousands<Hi, Lo>(PhantomData<(Hi, Lo)>);

/// The decimal form of a typenum number (see [`Decimal`]).
///
/// ```
/// use typed_cnn::shape::{Dim, Show};
/// let _: Dim<24> = <Show<typed_cnn::shape::Num<24>>>::default();
/// ```
pub type Show<T> = <T as Decimal>::Dim;

/// A 4-D shape `(N, C, H, W)` in decimal form: what [`crate::Tensor::shape_type`] and the
/// shape-assertion messages print, e.g. `Shape<64, Dim<6>, Dim<12>, Dim<12>>`.
///
/// ```
/// use typed_cnn::{Tensor, shape::{Dim, Shape}};
/// // LeNet's first convolution output, for a batch of 64
/// let _: Shape<64, Dim<6>, Dim<24>, Dim<24>> = Tensor::<64, 6, 24, 24>::zeros().shape_type();
/// ```
pub struct Shape<const N: usize, C, H, W>(pub(crate) PhantomData<(C, H, W)>);

/// A 2-D shape in decimal form, batch `N` and a feature count (a layer's `IN` or `OUT`), e.g.
/// `Shape2<64, Dim<10>>`.
///
/// ```
/// use typed_cnn::{Tensor2, shape::{Dim, Shape2}};
/// let _: Shape2<64, Dim<10>> = Tensor2::<64, 10>::zeros().shape_type();
/// ```
pub struct Shape2<const N: usize, F>(pub(crate) PhantomData<F>);

// ---------------------------------------------------------------------------------------------
// Stride modes
// ---------------------------------------------------------------------------------------------

/// Stride mode: the window must tile the padded input exactly, `(H + 2P − K) % S == 0`
/// (the default). A stride that leaves a remainder is a compile error.
///
/// ```
/// use typed_cnn::prelude::*;
/// // (7 − 3) % 2 == 0: a 3×3 kernel with stride 2 tiles 7 rows into (7 − 3)/2 + 1 = 3
/// let conv = Conv2d::<1, 1, 3, 2, 0, Exact>::init(&mut rand::rng());
/// let y: Tensor<1, 1, 3, 3> = conv.forward(Tensor::<1, 1, 7, 7>::zeros());
/// # let _ = y;
/// ```
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // (8 − 3) % 2 == 1: the last row and column would never be seen
/// let conv = Conv2d::<1, 1, 3, 2, 0, Exact>::init(&mut rand::rng());
/// let _ = conv.forward(Tensor::<1, 1, 8, 8>::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exact;

/// Stride mode: PyTorch's floor rule, `HO = ⌊(H + 2P − K)/S⌋ + 1`; the last rows and columns
/// that no window reaches are ignored. Opt in to import PyTorch models whose strides don't tile.
///
/// ```
/// use typed_cnn::prelude::*;
/// // ⌊(5 − 2)/2⌋ + 1 = 2: row 4 and column 4 of the 5×5 input are never pooled
/// let x = Tensor::<1, 1, 5, 5>::from_fn(|_, _, h, w| (h * 5 + w) as f32);
/// let y: Tensor<1, 1, 2, 2> = MaxPool2d::<2, 2, 0, Floor>::default().forward(x);
/// assert_eq!(y.as_slice(), [6., 8., 16., 18.]); // x[1, 1], x[1, 3], x[3, 1], x[3, 3]
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Floor;

/// The axis a size check failed on, named in compiler messages.
///
/// ```
/// use typed_cnn::shape::{Exact, Height, Num, WindowOut};
/// use typenum::Unsigned;
/// // 24 rows, 2×2 windows, stride 2: (24 − 2)/2 + 1 = 12
/// assert_eq!(<WindowOut<Num<24>, (), Height, 2, 2, 0, Exact> as Unsigned>::USIZE, 12);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Height;
/// The axis a size check failed on, named in compiler messages.
///
/// ```
/// use typed_cnn::shape::{Exact, Num, Width, WindowOut};
/// use typenum::Unsigned;
/// // 20 columns, 5-wide kernel, stride 1: 20 − 5 + 1 = 16
/// assert_eq!(<WindowOut<Num<20>, (), Width, 5, 1, 0, Exact> as Unsigned>::USIZE, 16);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Width;

/// Implemented by [`Exact`] only when the remainder `R = (H + 2P − K) % S` is zero, and by
/// [`Floor`] always.
///
/// ```
/// use typed_cnn::shape::{Floor, Height, Num, WindowOut};
/// use typenum::Unsigned;
/// // Floor accepts a remainder: ⌊(7 − 2)/2⌋ + 1 = 3
/// assert_eq!(<WindowOut<Num<7>, (), Height, 2, 2, 0, Floor> as Unsigned>::USIZE, 3);
/// ```
/// `Exact`, the default, rejects it: `(7 − 2) % 2 == 1`.
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let _ = MaxPool2d::<2>::default().forward(Tensor::<1, 1, 7, 7>::zeros());
/// ```
pub trait StrideMode<R, L, A, const K: usize, const S: usize, const P: usize, HD>:
    Default + Copy + Send + Sync + 'static
{
}

impl<R, L, A, const K: usize, const S: usize, const P: usize, HD> StrideMode<R, L, A, K, S, P, HD>
    for Exact
where
    R: StrideTiles<L, A, K, S, P, HD>,
{
}
impl<R, L, A, const K: usize, const S: usize, const P: usize, HD> StrideMode<R, L, A, K, S, P, HD>
    for Floor
{
}

/// Marker: the stride tiles the padded input (implemented for a zero remainder only).
///
/// ```
/// use typed_cnn::prelude::*;
/// let pool = AvgPool2d::<3, 2>::default();
/// let y: Tensor<1, 1, 4, 4> = pool.forward(Tensor::<1, 1, 9, 9>::zeros()); // (9 − 3)/2 + 1
/// # let _ = y;
/// ```
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // (8 − 3) % 2 == 1: a 3×3 window with stride 2 does not tile 8 rows
/// let _ = AvgPool2d::<3, 2>::default().forward(Tensor::<1, 1, 8, 8>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` doesn't fit: kernel {K} with stride {S} and padding {P} does not tile the input {A} `{HD}`",
    label = "(H + 2P − K) is not a multiple of the stride {S}",
    note = "choose a stride, padding or input size with (H + 2P − K) % S == 0, or opt in to PyTorch's floor rule with the `Floor` mode parameter"
)]
pub trait StrideTiles<L, A, const K: usize, const S: usize, const P: usize, HD> {}
impl<L, A, const K: usize, const S: usize, const P: usize, HD> StrideTiles<L, A, K, S, P, HD>
    for U0
{
}

/// Marker: `K ≤ H + 2P` (implemented for typenum's `True` only).
///
/// ```
/// use typed_cnn::prelude::*;
/// // Padding 1 makes room: 3 + 2·1 − 5 + 1 = 1
/// let conv = Conv2d::<1, 1, 5, 1, 1>::init(&mut rand::rng());
/// let y: Tensor<1, 1, 1, 1> = conv.forward(Tensor::<1, 1, 3, 3>::zeros());
/// # let _ = y;
/// ```
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A 5×5 kernel on a 3×3 input without padding
/// let _ = Conv2d::<1, 1, 5>::init(&mut rand::rng()).forward(Tensor::<1, 1, 3, 3>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}`: kernel {K} is larger than the input {A} `{HD}` plus 2 × padding {P}",
    label = "the kernel does not fit in the padded input",
    note = "the window layer needs K ≤ H + 2P; use a smaller kernel, more padding, or a larger input"
)]
pub trait KernelFits<L, A, const K: usize, const P: usize, HD> {}
impl<L, A, const K: usize, const P: usize, HD> KernelFits<L, A, K, P, HD> for B1 {}

/// `H + 2P` as a typenum number.
///
/// ```
/// use typed_cnn::shape::{Num, Padded};
/// use typenum::Unsigned;
/// assert_eq!(<Padded<Num<28>, 2> as Unsigned>::USIZE, 32); // 28 + 2·2
/// ```
pub type Padded<H, const P: usize> = <<H as Add<Num<P>>>::Output as Add<Num<P>>>::Output;
/// `H + 2P − K`, computed from `max(H + 2P, K)` so that a kernel that is too large reports only
/// the [`KernelFits`] message, not typenum's "cannot subtract `B1` from `UInt<…>`".
///
/// ```
/// use typed_cnn::shape::{Num, Span};
/// use typenum::Unsigned;
/// assert_eq!(<Span<Num<28>, 5, 2> as Unsigned>::USIZE, 27); // 28 + 2·2 − 5
/// ```
pub type Span<H, const K: usize, const P: usize> =
    <Maximum<Padded<H, P>, Num<K>> as Sub<Num<K>>>::Output;

/// The output size of a sliding window of kernel `K`, stride `S`, padding `P` along one axis `A`
/// of layer `L`, in stride mode `M`: `HO = (H + 2P − K)/S + 1` (on the [`Width`] axis, `W` and
/// `WO`).
///
/// Implemented for every typenum input size `H` that passes the checks, so a layer's output type is
/// `<H as Window<…>>::Out`. The checks are traits with their own messages, reported at
/// `cargo check`: [`KernelFits`] and, in [`Exact`] mode, [`StrideTiles`].
///
/// ```
/// use typed_cnn::shape::{Exact, Height, Num, Window};
/// use typenum::Unsigned;
/// // (28 + 2·1 − 4)/2 + 1 = 14
/// assert_eq!(<<Num<28> as Window<(), Height, 4, 2, 1, Exact>>::Out as Unsigned>::USIZE, 14);
/// ```
pub trait Window<L, A, const K: usize, const S: usize, const P: usize, M> {
    /// The output size `HO` as a typenum number.
    type Out: Unsigned;
}

// Each bound says the message a user sees when it fails. "Never fails" marks a bound that holds
// once the bounds before it hold: it is there for the arithmetic to type-check, and the guards
// (`max`, the markers) keep typenum's own errors from showing.
impl<H, L, A, M, const K: usize, const S: usize, const P: usize> Window<L, A, K, S, P, M> for H
where
    // K, S or P outside the size table (0..=4096 and multiples of 16 up to 16384): `Size`,
    // "`Dims<5000>`: typed-cnn cannot write this number as a size in a type".
    Dims<K>: Size,
    Dims<S>: Size,
    Dims<P>: Size,
    // Never fails: any number compares with 0.
    Num<K>: IsGreater<U0>,
    // K = 0: `KernelNonZero`, "`{L}`: the kernel size is {K}, but it must be at least 1".
    Gr<Num<K>, U0>: KernelNonZero<L, K>,
    // Never fails: any number compares with 0 and has a maximum with 1.
    Num<S>: IsGreater<U0> + Max<U1>,
    // S = 0: `StrideNonZero`, "`{L}`: the stride is {S}, but it must be at least 1".
    Gr<Num<S>, U0>: StrideNonZero<L, S>,
    // Never fails for a tensor's size: every typenum number has a decimal form and adds.
    H: Decimal + Add<Num<P>>,
    // Never fails: `(H + P) + P`.
    <H as Add<Num<P>>>::Output: Add<Num<P>>,
    // Never fails: `H + 2P ≥ K` and `max(H + 2P, K)` exist for any two numbers.
    Padded<H, P>: IsGreaterOrEqual<Num<K>> + Max<Num<K>>,
    // K > H + 2P: `KernelFits`, "`{L}`: kernel {K} is larger than the input {A} `{HD}` plus
    // 2 × padding {P}".
    GrEq<Padded<H, P>, Num<K>>: KernelFits<L, A, K, P, Show<H>>,
    // Never fails: `max(H + 2P, K) ≥ K`, so a kernel too large reports only `KernelFits`
    // (pitfall 6).
    Maximum<Padded<H, P>, Num<K>>: Sub<Num<K>>,
    // Never fails: the divisor is `max(S, 1) ≥ 1`, so S = 0 reports only `StrideNonZero`.
    Span<H, K, P>: Div<Divisor<S>> + Rem<Divisor<S>>,
    // In `Exact` mode with `(H + 2P − K) % S ≠ 0`: `StrideTiles` (required by `Exact`'s
    // `StrideMode` impl), "`{L}` doesn't fit: kernel {K} with stride {S} and padding {P} does not
    // tile the input {A} `{HD}`". Never fails in `Floor` mode. An `M` that is neither mode:
    // rustc's own "the trait bound `…: StrideMode<…>` is not satisfied".
    M: StrideMode<<Span<H, K, P> as Rem<Divisor<S>>>::Output, L, A, K, S, P, Show<H>>,
    // Never fails: `HO = (H + 2P − K)/S + 1` is a typenum number.
    <Span<H, K, P> as Div<Divisor<S>>>::Output: Add<B1>,
    <<Span<H, K, P> as Div<Divisor<S>>>::Output as Add<B1>>::Output: Unsigned,
{
    type Out = <<Span<H, K, P> as Div<Divisor<S>>>::Output as Add<B1>>::Output;
}

/// The stride as a typenum divisor: `max(S, 1)`, so that a zero stride reports only the
/// [`StrideNonZero`] message and not typenum's missing division by zero.
///
/// ```
/// use typed_cnn::shape::Divisor;
/// use typenum::Unsigned;
/// assert_eq!(<Divisor<3> as Unsigned>::USIZE, 3);
/// assert_eq!(<Divisor<0> as Unsigned>::USIZE, 1); // max(0, 1)
/// ```
pub type Divisor<const S: usize> = Maximum<Num<S>, U1>;

/// Marker: a 2-D layer `L` (`Linear`, `FlatLinear`) was given a 4-D input whose `(C, H, W)` are
/// the decimal sizes `C`, `H` and `Self`. No type has it: the bound reports the rank mistake with the
/// input's sizes in decimal.
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // `Linear<100, 10>` takes a 2-D input `(N, features)`, but gets a 4-D `(N, C, H, W)` with
/// // C = Dim<4>, H = Dim<5>, W = Dim<5>
/// let fc = Linear::<100, 10>::default();
/// let _ = fc.forward(Tensor::<2, 4, 5, 5>::zeros());
/// ```
///
/// The input's width is the trait's `Self` (and the feature count is `Self` of [`ImageInput`]):
/// while the compiler has not yet computed it, the bound waits rather than failing at once with
/// unknown sizes printed as `_`.
#[diagnostic::on_unimplemented(
    message = "`{L}` takes a 2-D input `(N, features)`, but gets a 4-D `(N, C, H, W)` with C = {C}, H = {H}, W = {Self}",
    label = "put `Flatten` before this layer",
    note = "`Flatten` turns `(N, C, H, W)` into `(N, C·H·W)`; `FlatLinear<C, H, W, OUT>` writes the in-features as that product"
)]
pub trait FlatInput<L, C, H> {
    /// The output of the impl that reports the mistake: never a type.
    type Never;
    /// No type has this trait, so a body that calls this cannot run.
    fn absurd<T>() -> T;
}

/// Marker: a 4-D layer `L` (convolution, pooling, batch norm) was given a 2-D input whose feature
/// count (decimal) is `Self`. No type has it: the bound reports the rank mistake with the feature count.
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // `MaxPool2d<2>` takes a 4-D input `(N, C, H, W)`, but gets a 2-D `(N, features)` with
/// // Dim<64> features
/// let _ = MaxPool2d::<2>::default().forward(Tensor2::<2, 64>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` takes a 4-D input `(N, C, H, W)`, but gets a 2-D `(N, features)` with {Self} features",
    label = "an image layer after the image axes are gone",
    note = "convolution, pooling and batch norm work on `(N, C, H, W)`; after `Flatten` or a `Linear`, only `Linear` layers, activations and dropout follow"
)]
pub trait ImageInput<L> {
    /// The output of the impl that reports the mistake: never a type.
    type Never;
    /// No type has this trait, so a body that calls this cannot run.
    fn absurd<T>() -> T;
}

/// Marker: the kernel size `K` of layer `L` is at least 1 (implemented for `True`).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A 0×0 pooling window
/// let _ = AvgPool2d::<0, 1>::default().forward(Tensor::<1, 2, 8, 9>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}`: the kernel size is {K}, but it must be at least 1",
    label = "a 0×0 window sees nothing"
)]
pub trait KernelNonZero<L, const K: usize> {}
impl<L, const K: usize> KernelNonZero<L, K> for B1 {}

/// Marker: the scale factor `F` of layer `L` is at least 1 (implemented for `True`).
#[diagnostic::on_unimplemented(
    message = "`{L}`: the scale factor is {F}, but it must be at least 1",
    label = "upsampling by 0 leaves no pixels"
)]
pub trait ScaleNonZero<L, const F: usize> {}
impl<L, const F: usize> ScaleNonZero<L, F> for B1 {}

/// Marker: the stride `S` of layer `L` is at least 1 (implemented for `True`).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // Stride 0
/// let _ = MaxPool2d::<2, 0>::default().forward(Tensor::<1, 2, 8, 8>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}`: the stride is {S}, but it must be at least 1",
    label = "a zero stride never moves the window"
)]
pub trait StrideNonZero<L, const S: usize> {}
impl<L, const S: usize> StrideNonZero<L, S> for B1 {}

/// Marker: a pooling layer's padding is at most half its kernel, `2P ≤ K` (implemented for
/// `True`), so that no window lies wholly in the padding. PyTorch enforces the same rule.
///
/// ```
/// use typed_cnn::prelude::*;
/// // 2·1 ≤ 3: a 3×3 window, stride 1, padding 1 keeps the size (8 + 2 − 3 + 1 = 8)
/// let pool = MaxPool2d::<3, 1, 1>::default();
/// let y: Tensor<1, 2, 8, 9> = pool.forward(Tensor::<1, 2, 8, 9>::zeros());
/// # let _ = y;
/// ```
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // 2·2 > 3: the corner windows would lie wholly in the padding
/// let _ = MaxPool2d::<3, 1, 2>::default().forward(Tensor::<1, 2, 8, 9>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}`: padding {P} is more than half the kernel size {K}",
    label = "pooling padding must satisfy 2P ≤ K",
    note = "a window wholly in the padding would pool nothing; PyTorch rejects it too"
)]
pub trait PoolPadding<L, const K: usize, const P: usize> {}
impl<L, const K: usize, const P: usize> PoolPadding<L, K, P> for B1 {}

/// The output size of [`Window`].
///
/// ```
/// use typed_cnn::shape::{Exact, Height, Num, WindowOut};
/// use typenum::Unsigned;
/// // LeNet's first convolution: (28 + 2·0 − 5)/1 + 1 = 24
/// assert_eq!(<WindowOut<Num<28>, (), Height, 5, 1, 0, Exact> as Unsigned>::USIZE, 24);
/// ```
pub type WindowOut<H, L, A, const K: usize, const S: usize, const P: usize, M> =
    <H as Window<L, A, K, S, P, M>>::Out;

// ---------------------------------------------------------------------------------------------
// Equality checks between layers
// ---------------------------------------------------------------------------------------------

/// Marker: the input has the channel count `C` the layer `L` expects (implemented for typenum's
/// `True`, the result of comparing the two counts with `IsEqual`, never by unifying them).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A 3-channel (RGB) convolution on 1-channel (grey) images
/// let _ = Conv2d::<3, 6, 5>::init(&mut rand::rng()).forward(Tensor::<1, 1, 28, 28>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` expects {C} input channels, but the input has `{Found}` channels",
    label = "channel mismatch",
    note = "the previous layer's output channels must equal this layer's input channels"
)]
pub trait ChannelsMatch<L, const C: usize, Found> {}
impl<L, const C: usize, Found> ChannelsMatch<L, C, Found> for B1 {}

/// Marker: a grouped convolution's input and output channels are multiples of its groups
/// (implemented for `True` only).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // 8 output channels do not split into 3 groups
/// let conv = GroupedConv2d::<6, 8, 3, 3>::init(&mut rand::rng());
/// let _ = conv.forward(Tensor::<1, 6, 5, 5>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` splits {CIN} input and {COUT} output channels into {G} groups, but both must be multiples of {G}",
    label = "the channels do not split into the groups",
    note = "as PyTorch's `groups`, G must divide both channel counts; a depthwise convolution has G = CIN = COUT (`DepthwiseConv2d<C, K>`)"
)]
pub trait GroupsDivide<L, const CIN: usize, const COUT: usize, const G: usize> {}
impl<L, const CIN: usize, const COUT: usize, const G: usize> GroupsDivide<L, CIN, COUT, G> for B1 {}

/// Marker: the group count `G` of layer `L` is at least 1 (implemented for `True`).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let conv = GroupedConv2d::<4, 4, 3, 0>::init(&mut rand::rng());
/// let _ = conv.forward(Tensor::<1, 4, 5, 5>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` has {G} groups, but it needs at least 1",
    label = "zero groups hold no channels",
    note = "G = 1 is an ordinary convolution (`Conv2d`), G = CIN = COUT a depthwise one (`DepthwiseConv2d`)"
)]
pub trait GroupsNonZero<L, const G: usize> {}
impl<L, const G: usize> GroupsNonZero<L, G> for B1 {}

/// Marker: a transposed convolution's output padding is below its stride, as PyTorch requires
/// (implemented for `True` only).
#[diagnostic::on_unimplemented(
    message = "`{L}` has output padding {OP}, but it must be below the stride {S}",
    label = "output padding not below the stride",
    note = "output padding adds rows and columns that only a stride larger than it leaves uncovered (PyTorch: `output_padding < stride`)"
)]
pub trait OutputPaddingBelowStride<L, const OP: usize, const S: usize> {}
impl<L, const OP: usize, const S: usize> OutputPaddingBelowStride<L, OP, S> for B1 {}

/// Marker: the input has the feature count the layer `L` expects (implemented for `True`).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // Flatten gives 16·4·4 = 256 features, not 400
/// let x = Flatten.forward(Tensor::<1, 16, 4, 4>::zeros());
/// let _ = Linear::<400, 120>::init(&mut rand::rng()).forward(x);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` expects `{ExpectedShow}` input features, but the input has `{Found}`",
    label = "feature-count mismatch",
    note = "after `Flatten`, the feature count is C·H·W of the last 4-D tensor; `Thousands<Dim<9>, Dim<216>>` reads 9216; `FlatLinear<C, H, W, OUT>` takes in-features above 1024"
)]
pub trait FeaturesMatch<L, ExpectedShow, Found> {}
impl<L, ExpectedShow, Found> FeaturesMatch<L, ExpectedShow, Found> for B1 {}

/// Type-level shape comparison of two tensor types of the same element type and batch:
/// `Output` is typenum's `True` or `False`.
///
/// Unlike a bound `A: Same<B>` with one blanket `impl<T> Same<T> for T`, this never unifies the two
/// shapes, so it cannot steer type inference into a confusing "type mismatch resolving" error:
/// the marker traits below then report a readable message.
///
/// ```
/// use typed_cnn::{Tensor, Tensor2, shape::ShapeEq};
/// use typenum::Bit;
/// assert!(<<Tensor<1, 2, 3, 4> as ShapeEq<Tensor<1, 2, 3, 4>>>::Output as Bit>::BOOL);
/// assert!(!<<Tensor2<1, 10> as ShapeEq<Tensor2<1, 12>>>::Output as Bit>::BOOL);
/// ```
pub trait ShapeEq<Other> {
    /// `True` if the shapes are equal.
    type Output;
}

/// Marker: a residual branch's output has its input's shape (implemented for `True` only).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A 1×1 convolution from 2 to 4 channels cannot be added to its 2-channel input
/// let block = Residual::<Conv2d<2, 4, 1>>::init(&mut rand::rng());
/// let _ = block.forward(Tensor::<1, 2, 5, 5>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "this residual branch changes the shape: it maps `{InShape}` to `{OutShape}`",
    label = "`Residual<M>` needs a branch whose output shape equals its input shape",
    note = "`y = F(x) + x` adds the branch output to its input element-wise"
)]
pub trait ResidualKeepsShape<InShape, OutShape> {}
impl<InShape, OutShape> ResidualKeepsShape<InShape, OutShape> for B1 {}

/// Marker: the two branches of a [`Sum`](crate::layers::Sum) give the same shape (implemented for
/// `True` only).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A stride-2 branch beside a stride-1 shortcut: 4×4 against 8×8
/// let block = Sum::<Conv2d<2, 4, 3, 2, 1, Floor>, Conv2d<2, 4, 1>>::init(&mut rand::rng());
/// let _ = block.forward(Tensor::<1, 2, 8, 8>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "the two branches of this sum give different shapes: `{A}` and `{B}`",
    label = "a sum (`Sum<F, G>`, or `a + b` in a `network!` route) adds its branches element-wise",
    note = "a projection shortcut must match the main branch: the same output channels and the same stride (torchvision: a 1×1 convolution with the block's stride, then batch norm)"
)]
pub trait BranchesMatch<A, B> {}
impl<A, B> BranchesMatch<A, B> for B1 {}

/// Marker: the two branches of a [`Concat`](crate::layers::Concat) give the same batch, height
/// and width (implemented for `True` only), so that their channels can be stacked.
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // A U-Net skip whose upsampled side is 8×8 against the skip's 9×9
/// let block = Concat::<Identity, Conv2d<2, 4, 2>>::init(&mut rand::rng());
/// let _ = block.forward(Tensor::<1, 2, 9, 9>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "the two branches of this concatenation differ in height or width: `{A}` and `{B}`",
    label = "a concatenation (`Concat<F, G>`, or `cat(a, b)` in a `network!` route) stacks the channels of its branches, which must agree on (N, H, W)",
    note = "U-Net crops or pads the skip to the upsampled size; choose sizes whose down- and up-sampling meet"
)]
pub trait ConcatSizesMatch<A, B> {}
impl<A, B> ConcatSizesMatch<A, B> for B1 {}

/// Marker: a loss's targets have the prediction's shape (implemented for `True` only).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // Predictions of 3 features against targets of 4
/// let _ = mse(&Tensor2::<8, 3>::zeros(), &Tensor2::<8, 4>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "the loss gets predictions of shape `{PredShape}` but targets of shape `{TargetShape}`",
    label = "targets and predictions disagree",
    note = "the targets of a loss must have the shape of the network's output"
)]
pub trait TargetsMatch<PredShape, TargetShape> {}
impl<PredShape, TargetShape> TargetsMatch<PredShape, TargetShape> for B1 {}

/// Marker: the labels' class count `CLASSES` equals the logits' feature count `Found` (`True`
/// only).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // Logits for 10 classes, labels for 5
/// let _ = cross_entropy(&Tensor2::<1, 10>::zeros(), &Labels::<1, 5>::new(vec![0]).unwrap());
/// ```
#[diagnostic::on_unimplemented(
    message = "cross-entropy gets logits with `{Found}` classes but labels for {CLASSES} classes",
    label = "class-count mismatch",
    note = "the last layer's output features (channels, per pixel) must equal the labels' class count `CLASSES` in `Labels<N, CLASSES>` (`PixelLabels<N, H, W, CLASSES>`)"
)]
pub trait ClassesMatch<const CLASSES: usize, Found> {}
impl<const CLASSES: usize, Found> ClassesMatch<CLASSES, Found> for B1 {}

/// Marker: per-pixel labels of `LH × LW` maps fit logits of `H × W` (decimal forms `HD`, `WD`):
/// implemented for both comparisons `True`.
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // Logits of 8×8 pixels, masks of 8×6
/// let z = Tensor::<2, 3, 8, 8>::zeros();
/// let _ = pixel_cross_entropy(&z, &PixelLabels::<2, 8, 6, 3>::new(vec![0; 96]).unwrap());
/// ```
#[diagnostic::on_unimplemented(
    message = "per-pixel cross-entropy gets logits of `{HD}` × `{WD}` pixels but labels for {LH} × {LW}",
    label = "mask size mismatch",
    note = "the labels' `H` and `W` in `PixelLabels<N, H, W, CLASSES>` must equal the network output's height and width"
)]
pub trait PixelSizesMatch<const LH: usize, const LW: usize, HD, WD> {}
impl<const LH: usize, const LW: usize, HD, WD> PixelSizesMatch<LH, LW, HD, WD> for (B1, B1) {}

/// Marker: a tensor has the shape a [`crate::T4::expect_shape`] call asserts.
///
/// ```compile_fail,E0277
/// use typed_cnn::Tensor2;
/// let _ = Tensor2::<8, 10>::zeros().expect_shape::<8, 12>();
/// ```
#[diagnostic::on_unimplemented(
    message = "shape assertion failed: expected `{Expected}`, found `{Self}`",
    label = "this tensor has shape `{Self}`"
)]
pub trait ShapeIs<Expected> {}
// The crate's one identity marker (pitfall 14 in the module docs): safe here because `expect_shape`
// applies it to a tensor whose shape is already inferred, against sizes the user wrote.
impl<T> ShapeIs<T> for T {}
