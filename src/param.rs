//! Parameter tensors whose shape is in their type: [`Param1`] (a bias, batch norm's γ),
//! [`Param2`] (a linear weight `(OUT, IN)`) and [`Param4`] (a conv weight `(COUT, CIN, K, K)`).
//!
//! Their `Default` is zeros of the right length, so a layer that derives `Default` is a layer
//! with zero weights of the right sizes: what weights are loaded into. They store their values
//! in a [`Storage`] and dereference to `[E]`.

use core::fmt;
use core::ops::Deref;
#[cfg(feature = "std")]
use core::ops::DerefMut;

#[cfg(feature = "std")]
use rand::Rng;

use crate::Float;
use crate::infer::{Name, SafeTensors, ViewError};
use crate::runtime::Storage;
#[cfg(feature = "std")]
use crate::tensor::LengthError;

/// A parameter tensor of a fixed shape: what [`crate::params!`] visits.
#[cfg(feature = "std")]
pub trait ParamTensor<E: Float>: Deref<Target = [E]> + DerefMut {
    /// The shape, PyTorch's (`[OUT, IN]` for a linear weight).
    const SHAPE: &'static [usize];
}

macro_rules! param_type {
    ($(#[$doc:meta])* $name:ident [$($d:ident),+] rank $r:literal) => {
        $(#[$doc])*
        pub struct $name<$(const $d: usize,)+ E: Float = f32> {
            data: Storage<E>,
        }

        impl<$(const $d: usize,)+ E: Float> $name<$($d,)+ E> {
            /// The number of values, the product of the shape.
            pub const LEN: usize = 1 $(* $d)+;
            /// The shape.
            pub const SHAPE: [usize; $r] = [$($d),+];

            /// The values of tensor `name` in `file`, of this shape, viewed in place.
            ///
            /// # Errors
            /// [`ViewError`] if the tensor is missing, of another dtype or shape, or misaligned.
            pub fn view(file: &SafeTensors, name: &Name) -> Result<Self, ViewError> {
                Ok(Self { data: Storage::from_static(file.values(name, &Self::SHAPE)?) })
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $d: usize,)+ E: Float> $name<$($d,)+ E> {
            /// Zeros (the same as `Default`).
            pub fn zeros() -> Self {
                Self { data: Storage::zeros(Self::LEN) }
            }

            /// The values `v` (row-major).
            ///
            /// # Errors
            /// [`LengthError`] if `v` does not hold exactly [`Self::LEN`] values.
            pub fn from_vec(v: Vec<E>) -> Result<Self, LengthError> {
                if v.len() == Self::LEN {
                    Ok(Self { data: v.into() })
                } else {
                    Err(LengthError { shape: Self::SHAPE.to_vec(), expected: Self::LEN, found: v.len() })
                }
            }

            /// A tensor whose values come from `f(i)` for each index `i` in row-major order.
            pub fn from_fn(f: impl FnMut(usize) -> E) -> Self {
                Self { data: (0..Self::LEN).map(f).collect() }
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $d: usize,)+ E: Float> ParamTensor<E> for $name<$($d,)+ E> {
            const SHAPE: &'static [usize] = &[$($d),+];
        }

        #[cfg(feature = "std")]
        impl<$(const $d: usize,)+ E: Float> Default for $name<$($d,)+ E> {
            fn default() -> Self {
                Self::zeros()
            }
        }

        impl<$(const $d: usize,)+ E: Float> Clone for $name<$($d,)+ E> {
            fn clone(&self) -> Self {
                Self { data: self.data.clone() }
            }
        }

        impl<$(const $d: usize,)+ E: Float> PartialEq for $name<$($d,)+ E> {
            fn eq(&self, other: &Self) -> bool {
                self.data == other.data
            }
        }

        impl<$(const $d: usize,)+ E: Float> fmt::Debug for $name<$($d,)+ E> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:?} {:?}", stringify!($name), Self::SHAPE, &self.data)
            }
        }

        impl<$(const $d: usize,)+ E: Float> Deref for $name<$($d,)+ E> {
            type Target = [E];
            fn deref(&self) -> &[E] {
                &self.data
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $d: usize,)+ E: Float> DerefMut for $name<$($d,)+ E> {
            fn deref_mut(&mut self) -> &mut [E] {
                &mut self.data
            }
        }
    };
}

param_type! {
    /// A rank-1 parameter of `A` values: a bias, batch norm's γ and β.
    ///
    /// ```
    /// use typed_cnn::Param1;
    /// let b = Param1::<3>::default();
    /// assert_eq!(&b[..], [0.0; 3]);
    /// assert_eq!(Param1::<3>::SHAPE, [3]);
    /// ```
    Param1[A] rank 1
}

param_type! {
    /// A rank-2 parameter `(A, B)`, row-major: a linear weight `(OUT, IN)`.
    ///
    /// ```
    /// use typed_cnn::Param2;
    /// let w = Param2::<2, 3, f64>::from_fn(|i| i as f64);
    /// assert_eq!(w.len(), 6);
    /// assert_eq!(w[4], 4.0);
    /// assert!(Param2::<2, 3>::from_vec(vec![0.0; 5]).is_err());
    /// ```
    Param2[A, B] rank 2
}

param_type! {
    /// A rank-4 parameter `(A, B, C, D)`, row-major: a conv weight `(COUT, CIN, K, K)`.
    ///
    /// ```
    /// use typed_cnn::Param4;
    /// assert_eq!(Param4::<16, 6, 5, 5>::LEN, 2400); // 16·6·5·5
    /// ```
    Param4[A, B, C, D] rank 4
}

/// How [`params!`](crate::params) initializes a parameter in [`crate::Init::init`].
///
/// ```
/// use typed_cnn::{Param1, init::Fill};
/// let mut b = Param1::<4, f64>::default();
/// Fill::Const(0.5).apply(&mut b, &mut rand::rng());
/// assert_eq!(b[..], [0.5; 4]);
/// Fill::PyTorch { fan_in: 16 }.apply(&mut b, &mut rand::rng());
/// assert!(b.iter().all(|v| v.abs() <= 0.25)); // U(±1/√16)
/// ```
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fill {
    /// Every value the same (γ = 1, β = 0).
    Const(f64),
    /// `U(low, high)`.
    Uniform(f64, f64),
    /// PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases: `U(±1/√fan_in)`.
    PyTorch {
        /// The fan-in, `IN` or `CIN·K·K`.
        fan_in: usize,
    },
}

#[cfg(feature = "std")]
impl Fill {
    /// Fills `values` (drawing from `rng` for the random rules).
    ///
    /// **Panics** on a rule that describes no distribution: `Uniform(low, high)` with `low ≥ high`
    /// or a bound that is not finite, `PyTorch { fan_in: 0 }` (a bound of `1/√0`).
    #[track_caller]
    pub fn apply<E: Float, R: Rng + ?Sized>(self, values: &mut [E], rng: &mut R) {
        if values.is_empty() {
            return; // nothing is drawn
        }
        match self {
            Fill::Uniform(low, high) => assert!(
                low < high && low.is_finite() && high.is_finite(),
                "Fill::Uniform({low}, {high}): needs finite low < high"
            ),
            Fill::PyTorch { fan_in } => {
                assert!(fan_in > 0, "Fill::PyTorch {{ fan_in: 0 }}: the fan-in must be positive")
            }
            Fill::Const(_) => {}
        }
        match self {
            Fill::Const(v) => values.fill(E::from_f64(v)),
            Fill::Uniform(low, high) => {
                values.iter_mut().for_each(|v| *v = E::from_f64(rng.random_range(low..high)))
            }
            Fill::PyTorch { fan_in } => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                Fill::Uniform(-bound, bound).apply(values, rng)
            }
        }
    }
}

/// Whether a layer has a bias, as a type: [`Bias`] (the default of `Conv2d` and `Linear`, like
/// PyTorch's `bias=True`) or [`NoBias`] (`bias=False`, as convolutions before batch norm are).
/// Sealed.
pub trait BiasMode:
    Copy + Default + fmt::Debug + PartialEq + Send + Sync + 'static + sealed::Sealed
{
    /// `true` for [`Bias`].
    const ON: bool;
}

/// The layer has a bias (PyTorch's `bias=True`, the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bias;

/// The layer has no bias (PyTorch's `bias=False`): its state dict has no `bias` tensor.
///
/// ```
/// use typed_cnn::prelude::*;
/// let conv = Conv2d::<3, 8, 3, 1, 1, Exact, f32, NoBias>::default();
/// assert_eq!(conv.bias(), None);
/// assert_eq!(Params::<f32>::param_count(&conv), 8 * 3 * 3 * 3); // the weights only
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoBias;

impl BiasMode for Bias {
    const ON: bool = true;
}
impl BiasMode for NoBias {
    const ON: bool = false;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Bias {}
    impl Sealed for super::NoBias {}
}
