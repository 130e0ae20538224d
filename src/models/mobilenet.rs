//! MobileNetV2 (Sandler et al. 2018), width 1.0, in torchvision's layout: `features.0` …
//! `features.18` and `classifier.1`, each inverted residual block's layers under `conv.0`,
//! `conv.1`, … as torchvision numbers them.

use crate::Float;
use crate::layers::{
    BatchNorm2d, Conv2d, DepthwiseConv2d, Dropout, Flatten, GlobalAvgPool2d, Linear, Relu6,
};
use crate::param::NoBias;
use crate::shape::{Exact, Floor};

/// torchvision's `Conv2dNormActivation(CIN, COUT, kernel_size=1)`: a 1×1 convolution without
/// bias, batch norm, ReLU6 (names `0.weight`, `1.*`).
pub type PointwiseBnRelu6<const CIN: usize, const COUT: usize, E = f32> =
    (Conv2d<CIN, COUT, 1, 1, 0, Exact, E, NoBias>, BatchNorm2d<COUT, E>, Relu6);

/// torchvision's `Conv2dNormActivation(C, C, stride=S, groups=C)`: a depthwise 3×3 convolution
/// (padding 1, PyTorch's floor rule), batch norm, ReLU6.
pub type DepthwiseBnRelu6<const C: usize, const S: usize, E = f32> =
    (DepthwiseConv2d<C, 3, S, 1, Floor, E, NoBias>, BatchNorm2d<C, E>, Relu6);

/// The linear bottleneck that ends every inverted residual block: a 1×1 convolution without
/// bias and batch norm, no activation.
pub type Project<const CIN: usize, const COUT: usize, E = f32> =
    (Conv2d<CIN, COUT, 1, 1, 0, Exact, E, NoBias>, BatchNorm2d<COUT, E>);

crate::network! {
    /// torchvision's `InvertedResidual` with expansion (ratio `HIDDEN/CIN`, 6 in MobileNetV2)
    /// and no skip (the stride is 2 or the channels change): expand 1×1, depthwise 3×3 with
    /// stride `S`, project 1×1.
    ///
    /// **PyTorch equivalent**: `InvertedResidual(CIN, COUT, S, expand_ratio=HIDDEN/CIN)`;
    /// parameters `conv.0.0.weight`, `conv.0.1.*`, `conv.1.0.weight`, `conv.1.1.*`,
    /// `conv.2.weight`, `conv.3.*`.
    pub struct InvertedResidual<
        const CIN: usize,
        const HIDDEN: usize,
        const COUT: usize,
        const S: usize,
        E: Float = f32,
    > {
        /// Expand, depthwise, project (numbered as torchvision's `conv` sequential).
        pub conv: (
            PointwiseBnRelu6<CIN, HIDDEN, E>,
            DepthwiseBnRelu6<HIDDEN, S, E>,
            Conv2d<HIDDEN, COUT, 1, 1, 0, Exact, E, NoBias>,
            BatchNorm2d<COUT, E>,
        ),
    }
}

crate::network! {
    /// torchvision's `InvertedResidual` with expansion and the skip: stride 1 and `C` channels
    /// in and out, `y = x + conv(x)`.
    ///
    /// **PyTorch equivalent**: `InvertedResidual(C, C, 1, expand_ratio=HIDDEN/C)`.
    pub struct InvertedResidualSkip<const C: usize, const HIDDEN: usize, E: Float = f32> {
        /// Expand, depthwise, project.
        pub conv: (
            PointwiseBnRelu6<C, HIDDEN, E>,
            DepthwiseBnRelu6<HIDDEN, 1, E>,
            Conv2d<HIDDEN, C, 1, 1, 0, Exact, E, NoBias>,
            BatchNorm2d<C, E>,
        ),
    }
    forward: (conv + identity)
}

crate::network! {
    /// torchvision's `InvertedResidual` with expansion ratio 1 (MobileNetV2's first block):
    /// depthwise 3×3, then project; no skip.
    ///
    /// **PyTorch equivalent**: `InvertedResidual(CIN, COUT, 1, expand_ratio=1)`; parameters
    /// `conv.0.0.weight`, `conv.0.1.*`, `conv.1.weight`, `conv.2.*`.
    pub struct InvertedResidualNoExpand<const CIN: usize, const COUT: usize, E: Float = f32> {
        /// Depthwise, project.
        pub conv: (
            DepthwiseBnRelu6<CIN, 1, E>,
            Conv2d<CIN, COUT, 1, 1, 0, Exact, E, NoBias>,
            BatchNorm2d<COUT, E>,
        ),
    }
}

crate::network! {
    /// MobileNetV2's `features`: the stem, 17 inverted residual blocks and the final 1×1
    /// convolution to 1280 channels, numbered 0 to 18 as torchvision numbers them.
    pub struct MobileNetV2Features<E: Float = f32>(
        (Conv2d<3, 32, 3, 2, 1, Floor, E, NoBias>, BatchNorm2d<32, E>, Relu6),
        InvertedResidualNoExpand<32, 16, E>,
        InvertedResidual<16, 96, 24, 2, E>,
        InvertedResidualSkip<24, 144, E>,
        InvertedResidual<24, 144, 32, 2, E>,
        InvertedResidualSkip<32, 192, E>,
        InvertedResidualSkip<32, 192, E>,
        InvertedResidual<32, 192, 64, 2, E>,
        InvertedResidualSkip<64, 384, E>,
        InvertedResidualSkip<64, 384, E>,
        InvertedResidualSkip<64, 384, E>,
        InvertedResidual<64, 384, 96, 1, E>,
        InvertedResidualSkip<96, 576, E>,
        InvertedResidualSkip<96, 576, E>,
        InvertedResidual<96, 576, 160, 2, E>,
        InvertedResidualSkip<160, 960, E>,
        InvertedResidualSkip<160, 960, E>,
        InvertedResidual<160, 960, 320, 1, E>,
        PointwiseBnRelu6<320, 1280, E>,
    );
}

crate::network! {
    /// MobileNetV2 (width 1.0) with `NUM_CLASSES` outputs, in torchvision's layout: a 3×3
    /// stride-2 stem, 17 inverted residual blocks with depthwise convolutions and ReLU6, a 1×1
    /// convolution to 1280 channels, global average pooling, dropout and a linear classifier.
    /// Input `(N, 3, H, W)`; the size is divided by 32 (rounding up at each stride-2 layer, as
    /// PyTorch's floor rule with padding 1 does): 224 → 7×7, 50 → 2×2.
    ///
    /// **PyTorch equivalent**: `torchvision.models.mobilenet_v2(num_classes=NUM_CLASSES)`, whose
    /// state dict (314 tensors: 158 parameters and 156 batch-norm buffers) loads into it strictly
    /// by name. **Parameters**: 2,223,872 + 1281·`NUM_CLASSES` (3,504,872 for 1000 classes).
    ///
    /// `classifier.0` is a [`Dropout`]: `init` and `default` give it p = 0.5; torchvision's is
    /// 0.2 (`net.classifier.0.set_p(0.2)` matches it in training; inference does not use it).
    ///
    /// ```
    /// use typed_cnn::{models::MobileNetV2, prelude::*};
    /// let net = MobileNetV2::<10>::default();
    /// assert_eq!(Params::<f32>::param_count(&net), 2_223_872 + 1281 * 10);
    /// let logits: Tensor2<1, 10> = net.forward(Tensor::<1, 3, 64, 64>::zeros());
    /// # let _ = logits;
    /// ```
    pub struct MobileNetV2<const NUM_CLASSES: usize, E: Float = f32> {
        /// `features.0` … `features.18`.
        pub features: MobileNetV2Features<E>,
        /// `nn.functional.adaptive_avg_pool2d(x, (1, 1))`.
        pub avgpool: GlobalAvgPool2d,
        /// `torch.flatten(x, 1)`.
        pub flatten: Flatten,
        /// `classifier.0`: dropout; `classifier.1`: the linear layer.
        pub classifier: (Dropout, Linear<1280, NUM_CLASSES, E>),
    }
}
