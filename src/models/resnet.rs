//! ResNet-18 and ResNet-34 (He et al. 2016) in torchvision's layout: the same modules under the
//! same names (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`), the same
//! strides and paddings, the same floor rule.

use crate::Float;
use crate::layers::{BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, Relu};
use crate::param::NoBias;
use crate::shape::{Exact, Floor};

crate::network! {
    /// torchvision's `BasicBlock` without a shortcut projection (stride 1, `C` channels in and
    /// out): `relu(bn2(conv2(relu(bn1(conv1(x))))) + x)`.
    ///
    /// **PyTorch equivalent**: `torchvision.models.resnet.BasicBlock(C, C)`; parameters
    /// `conv1.weight`, `bn1.*`, `conv2.weight`, `bn2.*` (2·9·C² + 4·C parameters).
    ///
    /// ```
    /// use typed_cnn::{models::BasicBlock, prelude::*};
    /// let block = BasicBlock::<16>::init(&mut rand::rng());
    /// let y: Tensor<2, 16, 8, 8> = block.forward(Tensor::<2, 16, 8, 8>::zeros());
    /// # let _ = y;
    /// assert_eq!(Params::<f32>::param_count(&block), 2 * 9 * 16 * 16 + 4 * 16);
    /// ```
    pub struct BasicBlock<const C: usize, E: Float = f32> {
        /// 3×3, stride 1, padding 1, no bias.
        pub conv1: Conv2d<C, C, 3, 1, 1, Exact, E, NoBias>,
        /// Batch norm after `conv1`.
        pub bn1: BatchNorm2d<C, E>,
        /// ReLU, used twice (after `bn1` and after the sum), as torchvision's one `relu`.
        pub relu: Relu,
        /// 3×3, stride 1, padding 1, no bias.
        pub conv2: Conv2d<C, C, 3, 1, 1, Exact, E, NoBias>,
        /// Batch norm after `conv2`.
        pub bn2: BatchNorm2d<C, E>,
    }
    forward: (conv1 -> bn1 -> relu -> conv2 -> bn2 + identity) -> relu
}

crate::network! {
    /// torchvision's `BasicBlock` with stride 2 and a projection shortcut (`downsample`: a 1×1
    /// stride-2 convolution and a batch norm), `CIN` channels in, `COUT` out, the size halved
    /// with PyTorch's floor rule (`(H − 1)/2 + 1`).
    ///
    /// **PyTorch equivalent**: `BasicBlock(CIN, COUT, stride=2, downsample=nn.Sequential(
    /// nn.Conv2d(CIN, COUT, 1, 2, bias=False), nn.BatchNorm2d(COUT)))`; parameters `conv1.weight`,
    /// `bn1.*`, `conv2.weight`, `bn2.*`, `downsample.0.weight`, `downsample.1.*`.
    ///
    /// ```
    /// use typed_cnn::{models::DownBlock, prelude::*};
    /// let block = DownBlock::<16, 32>::init(&mut rand::rng());
    /// let y: Tensor<2, 32, 4, 4> = block.forward(Tensor::<2, 16, 7, 7>::zeros()); // 7 → 4
    /// # let _ = y;
    /// ```
    pub struct DownBlock<const CIN: usize, const COUT: usize, E: Float = f32> {
        /// 3×3, stride 2, padding 1, no bias.
        pub conv1: Conv2d<CIN, COUT, 3, 2, 1, Floor, E, NoBias>,
        /// Batch norm after `conv1`.
        pub bn1: BatchNorm2d<COUT, E>,
        /// ReLU (after `bn1` and after the sum).
        pub relu: Relu,
        /// 3×3, stride 1, padding 1, no bias.
        pub conv2: Conv2d<COUT, COUT, 3, 1, 1, Exact, E, NoBias>,
        /// Batch norm after `conv2`.
        pub bn2: BatchNorm2d<COUT, E>,
        /// The projection shortcut: 1×1 stride-2 convolution, then batch norm.
        pub downsample: (Conv2d<CIN, COUT, 1, 2, 0, Floor, E, NoBias>, BatchNorm2d<COUT, E>),
    }
    forward: (conv1 -> bn1 -> relu -> conv2 -> bn2 + downsample) -> relu
}

crate::network! {
    /// ResNet-18 with `NUM_CLASSES` outputs, in torchvision's layout: a 7×7 stride-2 stem, a 3×3
    /// stride-2 max pool, four stages of two basic blocks (64, 128, 256, 512 channels; stages 2–4
    /// halve the size), global average pooling and a linear classifier. Input `(N, 3, H, W)`;
    /// any `H, W` from 29 up works (224 → 7×7 before the pool; 32 → 1×1).
    ///
    /// **PyTorch equivalent**: `torchvision.models.resnet18(num_classes=NUM_CLASSES)`, whose
    /// state dict (122 tensors: 62 parameters and 60 batch-norm buffers) loads into it strictly by name.
    /// **Parameters**: 11,176,512 + 513·`NUM_CLASSES` (11,689,512 for 1000 classes).
    ///
    /// ```
    /// use typed_cnn::{models::ResNet18, prelude::*};
    /// let net = ResNet18::<10>::default(); // all weights zero: load a state dict into it
    /// assert_eq!(Params::<f32>::param_count(&net), 11_176_512 + 513 * 10);
    /// let logits: Tensor2<1, 10> = net.forward(Tensor::<1, 3, 32, 32>::zeros());
    /// # let _ = logits;
    /// ```
    pub struct ResNet18<const NUM_CLASSES: usize, E: Float = f32> {
        /// The stem: 7×7, stride 2, padding 3, no bias.
        pub conv1: Conv2d<3, 64, 7, 2, 3, Floor, E, NoBias>,
        /// Batch norm after the stem.
        pub bn1: BatchNorm2d<64, E>,
        /// ReLU after `bn1`.
        pub relu: Relu,
        /// 3×3 max pool, stride 2, padding 1.
        pub maxpool: MaxPool2d<3, 2, 1, Floor>,
        /// Stage 1: 64 channels.
        pub layer1: (BasicBlock<64, E>, BasicBlock<64, E>),
        /// Stage 2: 128 channels, half the size.
        pub layer2: (DownBlock<64, 128, E>, BasicBlock<128, E>),
        /// Stage 3: 256 channels, half the size.
        pub layer3: (DownBlock<128, 256, E>, BasicBlock<256, E>),
        /// Stage 4: 512 channels, half the size.
        pub layer4: (DownBlock<256, 512, E>, BasicBlock<512, E>),
        /// `nn.AdaptiveAvgPool2d((1, 1))`.
        pub avgpool: GlobalAvgPool2d,
        /// `torch.flatten(x, 1)`.
        pub flatten: Flatten,
        /// The classifier.
        pub fc: Linear<512, NUM_CLASSES, E>,
    }
}

crate::network! {
    /// ResNet-34 with `NUM_CLASSES` outputs, in torchvision's layout: as [`ResNet18`] with 3, 4,
    /// 6 and 3 basic blocks in its four stages.
    ///
    /// **PyTorch equivalent**: `torchvision.models.resnet34(num_classes=NUM_CLASSES)`.
    /// **Parameters**: 21,284,672 + 513·`NUM_CLASSES` (21,797,672 for 1000 classes).
    ///
    /// ```
    /// use typed_cnn::{models::ResNet34, prelude::*};
    /// let net = ResNet34::<1000>::default();
    /// assert_eq!(Params::<f32>::param_count(&net), 21_797_672);
    /// ```
    pub struct ResNet34<const NUM_CLASSES: usize, E: Float = f32> {
        /// The stem: 7×7, stride 2, padding 3, no bias.
        pub conv1: Conv2d<3, 64, 7, 2, 3, Floor, E, NoBias>,
        /// Batch norm after the stem.
        pub bn1: BatchNorm2d<64, E>,
        /// ReLU after `bn1`.
        pub relu: Relu,
        /// 3×3 max pool, stride 2, padding 1.
        pub maxpool: MaxPool2d<3, 2, 1, Floor>,
        /// Stage 1: 3 blocks of 64 channels.
        pub layer1: (BasicBlock<64, E>, BasicBlock<64, E>, BasicBlock<64, E>),
        /// Stage 2: 4 blocks of 128 channels, half the size.
        pub layer2: (DownBlock<64, 128, E>, BasicBlock<128, E>, BasicBlock<128, E>, BasicBlock<128, E>),
        /// Stage 3: 6 blocks of 256 channels, half the size.
        pub layer3: (
            DownBlock<128, 256, E>,
            BasicBlock<256, E>,
            BasicBlock<256, E>,
            BasicBlock<256, E>,
            BasicBlock<256, E>,
            BasicBlock<256, E>,
        ),
        /// Stage 4: 3 blocks of 512 channels, half the size.
        pub layer4: (DownBlock<256, 512, E>, BasicBlock<512, E>, BasicBlock<512, E>),
        /// `nn.AdaptiveAvgPool2d((1, 1))`.
        pub avgpool: GlobalAvgPool2d,
        /// `torch.flatten(x, 1)`.
        pub flatten: Flatten,
        /// The classifier.
        pub fc: Linear<512, NUM_CLASSES, E>,
    }
}
