//! Tensors whose shape is part of their type: `Tensor<N, C, H, W>` (NCHW) and `Tensor2<N, F>`.
//!
//! Storage is one heap slice in row-major order (a 64×6×24×24 batch is 864 KiB: too big for the
//! stack). Channels and sizes are typenum numbers inside the struct so that layers can compute
//! output sizes at compile time; users write plain numbers through the aliases.

use core::fmt;
use core::marker::PhantomData;
#[cfg(feature = "std")]
use rand::Rng;
use typenum::Unsigned;

use crate::Float;
use crate::runtime::Storage;
use crate::shape::{Decimal, Num, Shape, Shape2, ShapeEq, Show};
#[cfg(feature = "std")]
use crate::shape::{Dim, ShapeIs};
use core::ops::BitAnd;
use typenum::{And, Eq, IsEqual};

/// A batch of `N` images with `C` channels of `H × W`, as typenum sizes (see [`Tensor`]).
///
/// Every value of this type holds exactly `N·C·H·W` elements.
///
/// ```
/// use typed_cnn::{T4, Tensor};
/// use typenum::{U3, U4, U5};
/// // `Tensor<2, 3, 4, 5>` is this struct with typenum sizes and `f32` elements
/// let x: T4<f32, 2, U3, U4, U5> = Tensor::<2, 3, 4, 5>::zeros();
/// assert_eq!(x.len(), 120); // 2·3·4·5
/// ```
pub struct T4<E: Float, const N: usize, C, H, W> {
    data: Storage<E>,
    dims: PhantomData<(C, H, W)>,
}

/// A batch of `N` feature vectors of length `F`, as a typenum size (see [`Tensor2`]).
///
/// Every value of this type holds exactly `N·F` elements.
///
/// ```
/// use typed_cnn::{T2, Tensor2};
/// // `Tensor2<4, 10, f64>` is this struct with a typenum feature count
/// let x: T2<f64, 4, typenum::U10> = Tensor2::<4, 10, f64>::zeros();
/// assert_eq!(x.len(), 40); // 4·10
/// ```
pub struct T2<E: Float, const N: usize, F> {
    data: Storage<E>,
    dims: PhantomData<F>,
}

/// `Tensor<N, C, H, W>`: a batch of `N` images, `C` channels of `H × W`, stored NCHW.
///
/// ```
/// use typed_cnn::Tensor;
/// let x = Tensor::<2, 1, 28, 27>::zeros();
/// assert_eq!(x.shape(), [2, 1, 28, 27]);
/// assert_eq!(x.as_slice().len(), 2 * 28 * 27);
/// ```
///
/// # Reading and asserting shapes
///
/// The compiler's own type-mismatch error (E0308, say from a wrong annotation
/// `let y: Tensor<64, 6, 24, 24> = conv.forward(x);`) prints sizes in typenum's binary form,
/// `UInt<UInt<UTerm, B1>, B0>`, and no library can change that message. Two methods print them
/// in decimal instead:
/// - [`T4::expect_shape`]: `y.expect_shape::<64, 6, 24, 24>()` asserts the shape at
///   `cargo check` and, if wrong, says "shape assertion failed: expected
///   `Shape<64, Dim<6>, Dim<24>, Dim<24>>`, found `Shape<64, Dim<6>, Dim<12>, Dim<12>>`";
/// - [`T4::shape_type`]: `let () = y.shape_type();` makes the compiler print the shape it
///   computed, "expected `Shape<64, Dim<6>, Dim<12>, Dim<12>>`, found `()`".
///
/// ```
/// use typed_cnn::prelude::*;
/// let conv = Conv2d::<1, 6, 5>::default();
/// let y = conv.forward(Tensor::<64, 1, 28, 28>::zeros()).expect_shape::<64, 6, 24, 24>();
/// # let _ = y;
/// ```
///
/// # Where the sizes come from the context
///
/// `Tensor<N, C, H, W>` spells its sizes as numbers that the compiler turns into types, and it
/// cannot run that the other way: `Tensor::zeros()` where the shape should come from the
/// expected type (an argument, an annotation) does not compile ("cannot infer the value of const
/// parameter `C`"). Either spell the sizes, `Tensor::<64, 1, 28, 28>::zeros()`, or call the
/// struct, `T4::zeros()`, whose typenum sizes are inferred:
///
/// ```
/// use typed_cnn::prelude::*;
/// fn takes(x: Tensor<2, 3, 8, 8>) -> usize { x.len() }
/// assert_eq!(takes(T4::zeros()), 384);
/// assert_eq!(takes(Tensor::<2, 3, 8, 8>::zeros()), 384);
/// ```
///
/// A function of your own generic over the sizes needs `Dims<C>: Size` per size and no `typenum`
/// (see [`Size`](crate::shape::Size)).
pub type Tensor<const N: usize, const C: usize, const H: usize, const W: usize, E = f32> =
    T4<E, N, Num<C>, Num<H>, Num<W>>;

/// `Tensor2<N, F>`: a batch of `N` vectors of `F` features (the input and output of `Linear`).
///
/// ```
/// use typed_cnn::Tensor2;
/// let x = Tensor2::<3, 10, f64>::from_fn(|n, f| (n * 10 + f) as f64);
/// assert_eq!(x.get(2, 5), 25.0);
/// ```
pub type Tensor2<const N: usize, const F: usize, E = f32> = T2<E, N, Num<F>>;

/// A run-time length did not match a tensor type: data from outside (a `Vec`, a file) has the
/// wrong number of elements for the shape the type demands.
///
/// ```
/// use typed_cnn::{LengthError, Tensor2};
/// let err = Tensor2::<2, 3>::from_vec(vec![0.0; 5]).unwrap_err();
/// assert_eq!(err, LengthError { shape: vec![2, 3], expected: 6, found: 5 });
/// assert_eq!(err.to_string(), "a tensor of shape [2, 3] holds 6 elements, but 5 were given");
/// ```
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LengthError {
    /// The shape the type demands.
    pub shape: Vec<usize>,
    /// The number of elements that shape holds.
    pub expected: usize,
    /// The number of elements given.
    pub found: usize,
}

#[cfg(feature = "std")]
impl fmt::Display for LengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a tensor of shape {:?} holds {} elements, but {} were given",
            self.shape, self.expected, self.found
        )
    }
}
#[cfg(feature = "std")]
impl std::error::Error for LengthError {}

/// Methods shared by [`T4`] and [`T2`]; each type provides `LEN`, `SHAPE` and `wrap`.
#[cfg(feature = "std")]
macro_rules! storage_methods {
    () => {
        /// The number of elements.
        ///
        /// ```
        /// use typed_cnn::{Tensor, Tensor2};
        /// assert_eq!(Tensor::<2, 3, 4, 5>::zeros().len(), 120); // 2·3·4·5
        /// assert_eq!(Tensor2::<8, 10>::zeros().len(), 80); // 8·10
        /// ```
        pub fn len(&self) -> usize {
            self.data.len()
        }
        /// `true` if the tensor holds no element (a dimension is zero).
        ///
        /// ```
        /// use typed_cnn::{Tensor, Tensor2};
        /// assert!(Tensor2::<0, 10>::zeros().is_empty()); // a batch of 0
        /// assert!(!Tensor::<1, 1, 1, 1>::zeros().is_empty());
        /// ```
        pub fn is_empty(&self) -> bool {
            self.data.is_empty()
        }
        /// A tensor of zeros.
        ///
        /// ```
        /// use typed_cnn::Tensor;
        /// let x = Tensor::<2, 1, 3, 3, f64>::zeros();
        /// assert_eq!(x.as_slice(), [0.0; 18]); // 2·1·3·3
        /// ```
        pub fn zeros() -> Self {
            Self::wrap(Storage::zeros(Self::LEN))
        }
        /// A tensor with every element equal to `value`.
        ///
        /// ```
        /// use typed_cnn::Tensor2;
        /// let x = Tensor2::<2, 3>::filled(1.5);
        /// assert_eq!(x.as_slice(), [1.5; 6]);
        /// assert_eq!(x.as_slice().iter().sum::<f32>(), 9.0); // 6·1.5
        /// ```
        pub fn filled(value: E) -> Self {
            Self::wrap(vec![value; Self::LEN].into())
        }
        /// Takes ownership of `data` (row-major), checking its length against the type.
        ///
        /// # Errors
        /// [`LengthError`] naming the shape, the expected and the found length.
        ///
        /// ```
        /// use typed_cnn::{LengthError, Tensor2};
        /// let x = Tensor2::<2, 3>::from_vec(vec![1., 2., 3., 4., 5., 6.]).unwrap();
        /// assert_eq!(x.get(1, 0), 4.0); // row-major: index 1·3 + 0 = 3
        /// let err = Tensor2::<2, 3>::from_vec(vec![0.0; 4]).unwrap_err();
        /// assert_eq!(err, LengthError { shape: vec![2, 3], expected: 6, found: 4 });
        /// ```
        pub fn from_vec(data: Vec<E>) -> Result<Self, LengthError> {
            if data.len() == Self::LEN {
                Ok(Self::wrap(data.into()))
            } else {
                Err(LengthError {
                    shape: Self::SHAPE.to_vec(),
                    expected: Self::LEN,
                    found: data.len(),
                })
            }
        }
        /// Copies a row-major slice, checking its length against the type.
        ///
        /// # Errors
        /// [`LengthError`] naming the shape, the expected and the found length.
        ///
        /// ```
        /// use typed_cnn::Tensor;
        /// let x = Tensor::<1, 1, 2, 2>::from_slice(&[1., 2., 3., 4.]).unwrap();
        /// assert_eq!(x.get(0, 0, 1, 0), 3.0); // (h, w) = (1, 0) is index 1·2 + 0 = 2
        /// assert!(Tensor::<1, 1, 2, 2>::from_slice(&[1., 2., 3.]).is_err()); // 3 ≠ 1·1·2·2
        /// ```
        pub fn from_slice(data: &[E]) -> Result<Self, LengthError> {
            Self::from_vec(data.to_vec())
        }
        /// Independent uniform random elements in `[low, high)`.
        ///
        /// ```
        /// use typed_cnn::Tensor2;
        /// use rand::{SeedableRng, rngs::StdRng};
        /// let x = Tensor2::<4, 25, f64>::uniform(&mut StdRng::seed_from_u64(0), -0.5, 0.5);
        /// assert!(x.as_slice().iter().all(|v| (-0.5..0.5).contains(v)));
        /// // The same seed gives the same tensor.
        /// assert_eq!(x, Tensor2::<4, 25, f64>::uniform(&mut StdRng::seed_from_u64(0), -0.5, 0.5));
        /// ```
        pub fn uniform<R: Rng + ?Sized>(rng: &mut R, low: f64, high: f64) -> Self {
            let data = (0..Self::LEN).map(|_| E::from_f64(rng.random_range(low..high))).collect();
            Self::wrap(data)
        }
        /// The elements in row-major order.
        ///
        /// ```
        /// use typed_cnn::Tensor2;
        /// let x = Tensor2::<2, 3>::from_fn(|n, f| (10 * n + f) as f32);
        /// assert_eq!(x.as_slice(), [0., 1., 2., 10., 11., 12.]); // sample 0, then sample 1
        /// ```
        pub fn as_slice(&self) -> &[E] {
            &self.data
        }
        /// The elements in row-major order, mutable.
        ///
        /// ```
        /// use typed_cnn::Tensor;
        /// let mut x = Tensor::<1, 2, 2, 2>::zeros();
        /// x.as_mut_slice()[5] = 7.0; // (c, h, w) = (1, 0, 1) is index (1·2 + 0)·2 + 1 = 5
        /// assert_eq!(x.get(0, 1, 0, 1), 7.0);
        /// ```
        pub fn as_mut_slice(&mut self) -> &mut [E] {
            &mut self.data
        }
        /// The elements in row-major order, by value.
        ///
        /// ```
        /// use typed_cnn::Tensor2;
        /// let v = Tensor2::<1, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap().into_vec();
        /// assert_eq!(v, vec![1.0, 2.0, 3.0]);
        /// ```
        pub fn into_vec(self) -> Vec<E> {
            self.data.into_vec()
        }
        /// Applies `f` to every element in place.
        ///
        /// ```
        /// use typed_cnn::Tensor2;
        /// let mut x = Tensor2::<1, 3>::from_slice(&[-1.0, 2.0, 3.0]).unwrap();
        /// x.map_inplace(|v| v * v + 1.0);
        /// assert_eq!(x.as_slice(), [2.0, 5.0, 10.0]); // (−1)² + 1, 2² + 1, 3² + 1
        /// ```
        pub fn map_inplace(&mut self, mut f: impl FnMut(E) -> E) {
            self.data.iter_mut().for_each(|v| *v = f(*v));
        }
        /// A tensor whose storage comes from the pool with unspecified (old, initialized)
        /// contents: for outputs a kernel overwrites completely (convolution, linear).
        pub(crate) fn overwritten() -> Self {
            Self::wrap(Storage::uninit(Self::LEN))
        }
        /// The storage, for a cache (without the `Decimal` bounds of [`TensorData`]).
        #[allow(dead_code, reason = "generated for both ranks; only convolution uses it so far")]
        pub(crate) fn into_storage(self) -> Storage<E> {
            self.data
        }
        #[track_caller]
        pub(crate) fn wrap(data: Storage<E>) -> Self {
            // The invariant every kernel relies on; one comparison per tensor is free.
            assert_eq!(data.len(), Self::LEN, "storage length does not match {:?}", Self::SHAPE);
            Self { data, dims: PhantomData }
        }
    };
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C: Unsigned, H: Unsigned, W: Unsigned> T4<E, N, C, H, W> {
    /// The number of elements, `N·C·H·W`.
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// assert_eq!(<Tensor<64, 1, 28, 28>>::LEN, 50_176); // 64·1·28·28
    /// ```
    pub const LEN: usize = N * C::USIZE * H::USIZE * W::USIZE;
    /// The shape `[N, C, H, W]`.
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// const SHAPE: [usize; 4] = <Tensor<8, 6, 24, 20>>::SHAPE; // usable in constants
    /// assert_eq!(SHAPE, [8, 6, 24, 20]);
    /// ```
    pub const SHAPE: [usize; 4] = [N, C::USIZE, H::USIZE, W::USIZE];

    storage_methods!();

    /// The shape `[N, C, H, W]`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<1, 6, 5>::init(&mut rand::rng());
    /// let y = conv.forward(Tensor::<8, 1, 28, 28>::zeros());
    /// assert_eq!(y.shape(), [8, 6, 24, 24]); // 28 − 5 + 1 = 24
    /// ```
    pub fn shape(&self) -> [usize; 4] {
        Self::SHAPE
    }

    /// A tensor whose element at `(n, c, h, w)` is `f(n, c, h, w)`.
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// let x = Tensor::<1, 2, 2, 3>::from_fn(|_, c, h, w| (100 * c + 10 * h + w) as f32);
    /// assert_eq!(x.get(0, 1, 1, 2), 112.0);
    /// assert_eq!(&x.as_slice()[..3], [0., 1., 2.]); // row 0 of channel 0
    /// ```
    pub fn from_fn(mut f: impl FnMut(usize, usize, usize, usize) -> E) -> Self {
        let [_, c, h, w] = Self::SHAPE;
        let data =
            (0..Self::LEN).map(|i| f(i / (c * h * w), i / (h * w) % c, i / w % h, i % w)).collect();
        Self::wrap(data)
    }

    /// The element at `(n, c, h, w)`. **Panics** if an index is out of range.
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// let x = Tensor::<2, 1, 2, 2>::from_slice(&[1., 2., 3., 4., 5., 6., 7., 8.]).unwrap();
    /// assert_eq!(x.get(1, 0, 0, 1), 6.0); // index ((1·1 + 0)·2 + 0)·2 + 1 = 5
    /// ```
    #[track_caller]
    pub fn get(&self, n: usize, c: usize, h: usize, w: usize) -> E {
        self.data[self.index(n, c, h, w)]
    }

    /// Sets the element at `(n, c, h, w)`. **Panics** if an index is out of range.
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// let mut x = Tensor::<1, 1, 2, 3>::zeros();
    /// x.set(0, 0, 1, 2, 9.0);
    /// assert_eq!(x.as_slice(), [0., 0., 0., 0., 0., 9.]); // (h, w) = (1, 2) is index 1·3 + 2 = 5
    /// ```
    #[track_caller]
    pub fn set(&mut self, n: usize, c: usize, h: usize, w: usize, value: E) {
        let i = self.index(n, c, h, w);
        self.data[i] = value;
    }

    #[track_caller]
    fn index(&self, n: usize, c: usize, h: usize, w: usize) -> usize {
        let [bn, bc, bh, bw] = Self::SHAPE;
        assert!(
            n < bn && c < bc && h < bh && w < bw,
            "index ({n}, {c}, {h}, {w}) out of range for shape ({bn}, {bc}, {bh}, {bw})"
        );
        ((n * bc + c) * bh + h) * bw + w
    }

    /// Asserts at compile time that this tensor has shape `(EN, EC, EH, EW)`; returns it unchanged.
    ///
    /// Where a wrong annotation `let y: Tensor<64, 6, 24, 24> = …` prints the sizes in typenum's
    /// binary form, this prints them in decimal: "shape assertion failed: expected
    /// `Shape<64, Dim<6>, Dim<24>, Dim<24>>`, found `Shape<64, Dim<6>, Dim<12>, Dim<12>>`".
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// let x = Tensor::<2, 3, 5, 4>::zeros().expect_shape::<2, 3, 5, 4>();
    /// # let _ = x;
    /// ```
    /// ```compile_fail,E0277
    /// use typed_cnn::Tensor;
    /// let _ = Tensor::<2, 3, 5, 4>::zeros().expect_shape::<2, 3, 4, 5>();
    /// ```
    pub fn expect_shape<const EN: usize, const EC: usize, const EH: usize, const EW: usize>(
        self,
    ) -> Self
    where
        C: Decimal,
        H: Decimal,
        W: Decimal,
        Shape<N, Show<C>, Show<H>, Show<W>>: ShapeIs<Shape<EN, Dim<EC>, Dim<EH>, Dim<EW>>>,
    {
        self
    }

    /// The same values in another element type (for example `f64` for a gradient check).
    ///
    /// ```
    /// use typed_cnn::Tensor;
    /// let x = Tensor::<1, 1, 1, 2>::from_slice(&[0.1f32, 2.5]).unwrap();
    /// let y: Tensor<1, 1, 1, 2, f64> = x.cast();
    /// assert_eq!(y.as_slice(), [0.1f32 as f64, 2.5]); // exact: every f32 is an f64
    /// ```
    pub fn cast<E2: Float>(&self) -> T4<E2, N, C, H, W> {
        T4::wrap(self.data.iter().map(|v| E2::from_f64(v.to_f64())).collect())
    }

    /// A value whose type spells this tensor's shape in decimal, for reading shapes off the
    /// compiler: `let () = y.shape_type();` fails with
    /// "expected `Shape<64, Dim<6>, Dim<12>, Dim<12>>`, found `()`".
    ///
    /// ```
    /// use typed_cnn::{Tensor, shape::{Dim, Shape}};
    /// let y = Tensor::<4, 6, 12, 10>::zeros();
    /// let _: Shape<4, Dim<6>, Dim<12>, Dim<10>> = y.shape_type();
    /// ```
    pub fn shape_type(&self) -> Shape<N, Show<C>, Show<H>, Show<W>>
    where
        C: Decimal,
        H: Decimal,
        W: Decimal,
    {
        Shape(PhantomData)
    }
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, F: Unsigned> T2<E, N, F> {
    /// The number of elements, `N·F`.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// assert_eq!(<Tensor2<64, 10>>::LEN, 640); // 64·10
    /// ```
    pub const LEN: usize = N * F::USIZE;
    /// The shape `[N, F]`.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// const SHAPE: [usize; 2] = <Tensor2<64, 10>>::SHAPE; // usable in constants
    /// assert_eq!(SHAPE, [64, 10]);
    /// ```
    pub const SHAPE: [usize; 2] = [N, F::USIZE];

    storage_methods!();

    /// The shape `[N, F]`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let x = Flatten.forward(Tensor::<2, 16, 4, 4>::zeros());
    /// assert_eq!(x.shape(), [2, 256]); // 16·4·4
    /// ```
    pub fn shape(&self) -> [usize; 2] {
        Self::SHAPE
    }

    /// A tensor whose element at `(n, f)` is `f(n, f)`.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let labels = [2, 0]; // one-hot rows for these labels
    /// let x = Tensor2::<2, 3>::from_fn(|n, f| if f == labels[n] { 1.0 } else { 0.0 });
    /// assert_eq!(x.as_slice(), [0., 0., 1., 1., 0., 0.]);
    /// ```
    pub fn from_fn(mut f: impl FnMut(usize, usize) -> E) -> Self {
        let w = F::USIZE;
        Self::wrap((0..Self::LEN).map(|i| f(i / w, i % w)).collect())
    }

    /// The element at `(n, f)`. **Panics** if an index is out of range.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let x = Tensor2::<2, 3>::from_slice(&[1., 2., 3., 4., 5., 6.]).unwrap();
    /// assert_eq!(x.get(1, 2), 6.0); // index 1·3 + 2 = 5
    /// ```
    #[track_caller]
    pub fn get(&self, n: usize, f: usize) -> E {
        assert!(
            n < N && f < F::USIZE,
            "index ({n}, {f}) out of range for shape ({N}, {})",
            F::USIZE
        );
        self.data[n * F::USIZE + f]
    }

    /// Sets the element at `(n, f)`. **Panics** if an index is out of range.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let mut x = Tensor2::<2, 2>::zeros();
    /// x.set(1, 0, -1.0);
    /// assert_eq!(x.as_slice(), [0., 0., -1., 0.]); // index 1·2 + 0 = 2
    /// ```
    #[track_caller]
    pub fn set(&mut self, n: usize, f: usize, value: E) {
        assert!(
            n < N && f < F::USIZE,
            "index ({n}, {f}) out of range for shape ({N}, {})",
            F::USIZE
        );
        self.data[n * F::USIZE + f] = value;
    }

    /// Row `n`: the `F` features of sample `n`.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let x = Tensor2::<3, 2>::from_fn(|n, f| (2 * n + f) as f32);
    /// assert_eq!(x.row(1), [2., 3.]); // elements 1·2 .. 2·2
    /// ```
    pub fn row(&self, n: usize) -> &[E] {
        &self.data[n * F::USIZE..(n + 1) * F::USIZE]
    }

    /// Asserts at compile time that this tensor has shape `(EN, EF)` (see [`T4::expect_shape`]).
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let x = Tensor2::<8, 10>::zeros().expect_shape::<8, 10>();
    /// # let _ = x;
    /// ```
    pub fn expect_shape<const EN: usize, const EF: usize>(self) -> Self
    where
        F: Decimal,
        Shape2<N, Show<F>>: ShapeIs<Shape2<EN, Dim<EF>>>,
    {
        self
    }

    /// The same values in another element type.
    ///
    /// ```
    /// use typed_cnn::Tensor2;
    /// let x = Tensor2::<1, 2, f64>::from_slice(&[0.5, 1.0 / 3.0]).unwrap();
    /// let y: Tensor2<1, 2, f32> = x.cast();
    /// assert_eq!(y.as_slice(), [0.5, 1.0f32 / 3.0]); // rounded to the nearest f32
    /// ```
    pub fn cast<E2: Float>(&self) -> T2<E2, N, F> {
        T2::wrap(self.data.iter().map(|v| E2::from_f64(v.to_f64())).collect())
    }

    /// A value whose type spells this tensor's shape in decimal (see [`T4::shape_type`]).
    ///
    /// ```
    /// use typed_cnn::{Tensor2, shape::{Dim, Shape2}};
    /// let y = Tensor2::<64, 10>::zeros();
    /// let _: Shape2<64, Dim<10>> = y.shape_type();
    /// ```
    pub fn shape_type(&self) -> Shape2<N, Show<F>>
    where
        F: Decimal,
    {
        Shape2(PhantomData)
    }
}

macro_rules! impl_clone_debug {
    ($t:ident < $($p:ident),* >) => {
        impl<E: Float, const N: usize, $($p),*> Clone for $t<E, N, $($p),*> {
            fn clone(&self) -> Self {
                Self { data: self.data.clone(), dims: PhantomData }
            }
        }
        impl<E: Float, const N: usize, $($p: Unsigned),*> fmt::Debug for $t<E, N, $($p),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let shape = [N $(, $p::USIZE)*];
                let head = &self.data[..self.data.len().min(8)];
                write!(f, "{}{shape:?} {head:?}", stringify!($t))?;
                if self.data.len() > 8 { write!(f, "…")?; }
                Ok(())
            }
        }
        impl<E: Float, const N: usize, $($p),*> PartialEq for $t<E, N, $($p),*> {
            fn eq(&self, other: &Self) -> bool {
                self.data == other.data
            }
        }
    };
}
impl_clone_debug!(T4<C, H, W>);
impl_clone_debug!(T2<F>);

/// What element-wise layers, losses and the gradient check need from any tensor type.
///
/// ```
/// use typed_cnn::{Tensor, Tensor2, TensorData};
/// fn total<T: TensorData<Elem = f32>>(t: &T) -> f32 {
///     t.data().iter().sum()
/// }
/// assert_eq!(total(&Tensor::<1, 2, 2, 2>::filled(0.5)), 4.0); // 8·0.5
/// assert_eq!(total(&Tensor2::<3, 4>::filled(1.0)), 12.0); // 12·1
/// ```
pub trait TensorData: Sized + Clone {
    /// The element type.
    type Elem: Float;
    /// The shape in decimal form (`Shape<…>` or `Shape2<…>`), for compiler messages.
    type ShapeType;
    /// The elements in row-major order.
    fn data(&self) -> &[Self::Elem];
    /// The elements in row-major order, mutable.
    #[cfg(feature = "std")]
    fn data_mut(&mut self) -> &mut [Self::Elem];
    /// The storage, for a reinterpretation as another tensor type of the same shape.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    fn into_storage(self) -> Storage<Self::Elem>;
    /// Wraps storage whose length the caller has proven through the types.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    fn from_storage(data: Storage<Self::Elem>) -> Self;
}

/// `TensorData` for a tensor struct: `$shape` is its decimal shape type.
macro_rules! tensor_data {
    (impl<$($p:ident),*> for $t:ty, shape = $shape:ty) => {
        impl<E: Float, const N: usize, $($p: Unsigned + Decimal),*> TensorData for $t {
            type Elem = E;
            type ShapeType = $shape;
            fn data(&self) -> &[E] {
                &self.data
            }
            #[cfg(feature = "std")]
            fn data_mut(&mut self) -> &mut [E] {
                &mut self.data
            }
            #[cfg(feature = "std")]
            fn into_storage(self) -> Storage<E> {
                self.data
            }
            #[cfg(feature = "std")]
            fn from_storage(data: Storage<E>) -> Self {
                Self::wrap(data)
            }
        }
    };
}
tensor_data!(impl<C, H, W> for T4<E, N, C, H, W>, shape = Shape<N, Show<C>, Show<H>, Show<W>>);
tensor_data!(impl<F> for T2<E, N, F>, shape = Shape2<N, Show<F>>);

/// Reinterprets the storage of one tensor type as another with the same element count (the
/// reshape of `Flatten`; the caller's types guarantee the counts agree).
#[cfg(feature = "std")]
pub(crate) fn reshape4to2<E: Float, const N: usize, C, H, W, F>(
    x: T4<E, N, C, H, W>,
) -> T2<E, N, F> {
    T2 { data: x.data, dims: PhantomData }
}

/// The inverse of [`reshape4to2`].
#[cfg(feature = "std")]
pub(crate) fn reshape2to4<E: Float, const N: usize, C, H, W, F>(
    x: T2<E, N, F>,
) -> T4<E, N, C, H, W> {
    T4 { data: x.data, dims: PhantomData }
}

impl<E: Float, const N: usize, C, H, W, C2, H2, W2> ShapeEq<T4<E, N, C2, H2, W2>>
    for T4<E, N, C, H, W>
where
    C: IsEqual<C2>,
    H: IsEqual<H2>,
    W: IsEqual<W2>,
    Eq<C, C2>: BitAnd<Eq<H, H2>>,
    And<Eq<C, C2>, Eq<H, H2>>: BitAnd<Eq<W, W2>>,
{
    type Output = And<And<Eq<C, C2>, Eq<H, H2>>, Eq<W, W2>>;
}

impl<E: Float, const N: usize, F, F2> ShapeEq<T2<E, N, F2>> for T2<E, N, F>
where
    F: IsEqual<F2>,
{
    type Output = Eq<F, F2>;
}
