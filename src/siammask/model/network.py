"""SiamMask "sharp" (the VOT configuration) as three stateless stages.

The module tree and parameter names equal the authors' checkpoint (SiamMask_VOT.pth), so its
state dict loads unchanged; the forward passes are split the way the tracker uses the network:

* ``template``: exemplar crop (K,3,127,127) -> the three correlation kernels (K,256,5,5);
  run once per target.
* ``search``: search crop (K,3,255,255) + classification and regression kernels -> scores
  (K,10,25,25), box deltas (K,20,25,25) and the features the mask needs, zero-padded as the
  reference's refine pads them so that a cell's window is a plain slice.
* ``refine``: the windows of those features around one score-map cell -> 127x127 mask logits.

Unlike the reference, the 63x63-per-cell mask head (unused when refine is on) is never run and
the mask branch embeds only the 7x7 window of search features its chosen cell reads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Sizes fixed by the architecture (stride 8, 127/255 crops).
TEMPLATE_SIZE = 127
SEARCH_SIZE = 255
SCORE_SIZE = 25
KERNEL_SIZE = 5  # spatial size of a correlation kernel
MASK_SIZE = 127
# Zero padding the refine module applies to p0, p1, p2 before cutting a cell's window.
REFINE_PADS = (16, 8, 4)
REFINE_WINDOWS = (61, 31, 15)
REFINE_STEPS = (4, 2, 1)  # window stride per score-map cell
SEARCH_WINDOW = KERNEL_SIZE + 2  # 7x7 adjusted features feed one cell's 3x3 conv + 5x5 correlation


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        # The reference pads 0 for stride-2 blocks (not 1 as torchvision does) and `dilation`
        # for dilated ones: this is what gives 255 -> 31 and 127 -> 15 feature maps.
        padding = dilation if dilation > 1 else 2 - stride
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, kernel_size=3, stride=stride, padding=padding, bias=False, dilation=dilation
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + residual)


class ResNet50Layer3(nn.Module):
    """ResNet-50 through layer3 with the reference's strides, paddings and dilations."""

    def __init__(self) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, stride=2)
        self.layer3 = self._make_layer(256, 6, dilation=2)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
        out_planes = planes * Bottleneck.expansion
        first_dilation = dilation
        downsample = None
        if stride != 1 or self.inplanes != out_planes:
            if stride == 1 and dilation == 1:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, out_planes, kernel_size=1, bias=False), nn.BatchNorm2d(out_planes)
                )
            else:
                # 3x3 shortcut; a dilated layer's first block runs at half the dilation
                first_dilation = dilation // 2 if dilation > 1 else 1
                padding = first_dilation if dilation > 1 else 0
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, out_planes, kernel_size=3, stride=stride, bias=False,
                              padding=padding, dilation=first_dilation),
                    nn.BatchNorm2d(out_planes),
                )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, dilation=first_dilation)]
        self.inplanes = out_planes
        layers += [Bottleneck(self.inplanes, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        p0 = self.relu(self.bn1(self.conv1(x)))
        p1 = self.layer1(self.maxpool(p0))
        p2 = self.layer2(p1)
        p3 = self.layer3(p2)
        return p0, p1, p2, p3


class Adjust(nn.Module):
    """1x1 conv 1024 -> 256 (named as the checkpoint names it)."""

    def __init__(self) -> None:
        super().__init__()
        self.downsample = nn.Sequential(nn.Conv2d(1024, 256, kernel_size=1, bias=False), nn.BatchNorm2d(256))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x)


class Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = ResNet50Layer3()
        self.downsample = Adjust()


def _conv_bn_relu(channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, kernel_size=kernel_size, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


class DepthCorr(nn.Module):
    """Depth-wise correlation branch: embed kernel and search, correlate, 1x1 head."""

    def __init__(self, out_channels: int, channels: int = 256) -> None:
        super().__init__()
        self.conv_kernel = _conv_bn_relu(channels, 3)
        self.conv_search = _conv_bn_relu(channels, 3)
        self.head = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, out_channels, kernel_size=1),
        )


def depthwise_correlation(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate each channel of `search` (K,C,H,W) with its kernel (K,C,h,w), per target.

    Written as h*w shifted multiply-adds instead of one grouped convolution: the grouped form
    needs the batch size inside the `group` attribute, which ONNX cannot leave dynamic.
    """
    kh, kw = kernel.shape[-2:]
    oh, ow = search.shape[-2] - kh + 1, search.shape[-1] - kw + 1
    out = None
    for i in range(kh):
        for j in range(kw):
            term = search[:, :, i : i + oh, j : j + ow] * kernel[:, :, i : i + 1, j : j + 1]
            out = term if out is None else out + term
    return out


class MaskBranch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mask = DepthCorr(63 * 63)  # the 63x63 head is loaded but unused with refine on


class RPN(nn.Module):
    def __init__(self, anchor_num: int = 5) -> None:
        super().__init__()
        self.cls = DepthCorr(2 * anchor_num)
        self.loc = DepthCorr(4 * anchor_num)


def _conv_relu_pair(cin: int, cmid: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cmid, 3, padding=1), nn.ReLU(), nn.Conv2d(cmid, cout, 3, padding=1), nn.ReLU()
    )


class Refine(nn.Module):
    """Top-down refinement from one cell's correlation feature to 127x127 mask logits."""

    def __init__(self) -> None:
        super().__init__()
        self.v0 = _conv_relu_pair(64, 16, 4)
        self.v1 = _conv_relu_pair(256, 64, 16)
        self.v2 = _conv_relu_pair(512, 128, 32)
        self.h2 = _conv_relu_pair(32, 32, 32)
        self.h1 = _conv_relu_pair(16, 16, 16)
        self.h0 = _conv_relu_pair(4, 4, 4)
        self.deconv = nn.ConvTranspose2d(256, 32, 15, 15)
        self.post0 = nn.Conv2d(32, 16, 3, padding=1)
        self.post1 = nn.Conv2d(16, 4, 3, padding=1)
        self.post2 = nn.Conv2d(4, 1, 3, padding=1)

    def forward(
        self, p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor, corr: torch.Tensor
    ) -> torch.Tensor:
        # The reference upsamples with F.upsample's default: legacy nearest neighbour.
        out = self.deconv(corr)
        out = self.post0(F.interpolate(self.h2(out) + self.v2(p2), size=(31, 31), mode="nearest"))
        out = self.post1(F.interpolate(self.h1(out) + self.v1(p1), size=(61, 61), mode="nearest"))
        out = self.post2(F.interpolate(self.h0(out) + self.v0(p0), size=(127, 127), mode="nearest"))
        return out.reshape(-1, MASK_SIZE, MASK_SIZE)


class SiamMaskNet(nn.Module):
    """The network. Holds weights only: per-target state (kernels, position) lives in trackers."""

    def __init__(self) -> None:
        super().__init__()
        self.features = Backbone()
        self.rpn_model = RPN()
        self.mask_model = MaskBranch()
        self.refine_model = Refine()

    # --- stage 1: template -------------------------------------------------------------------
    def embed_template(self, z: torch.Tensor) -> torch.Tensor:
        """Exemplar crop -> adjusted features (K,256,7,7), the reference's `zf`."""
        p3 = self.features.features(z)[-1]
        zf = self.features.downsample(p3)
        # the reference crops the 15x15 template map to its centre 7x7 (maps smaller than 20)
        return zf[:, :, 4:-4, 4:-4]

    def template(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        zf = self.embed_template(z)
        return (
            self.rpn_model.cls.conv_kernel(zf),
            self.rpn_model.loc.conv_kernel(zf),
            self.mask_model.mask.conv_kernel(zf),
        )

    # --- stage 2: search ---------------------------------------------------------------------
    def search(
        self, x: torch.Tensor, cls_kernel: torch.Tensor, loc_kernel: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """Search crop -> (cls, loc, xf, p0 padded, p1 padded, p2 padded)."""
        p0, p1, p2, p3 = self.features.features(x)
        xf = self.features.downsample(p3)
        cls = self._branch(self.rpn_model.cls, xf, cls_kernel)
        loc = self._branch(self.rpn_model.loc, xf, loc_kernel)
        padded = [F.pad(p, [pad] * 4) for p, pad in zip((p0, p1, p2), REFINE_PADS)]
        return (cls, loc, xf, *padded)

    @staticmethod
    def _branch(branch: DepthCorr, xf: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        return branch.head(depthwise_correlation(branch.conv_search(xf), kernel))

    # --- stage 3: refine ---------------------------------------------------------------------
    def refine(
        self, xf_win: torch.Tensor, mask_kernel: torch.Tensor, p0_win: torch.Tensor,
        p1_win: torch.Tensor, p2_win: torch.Tensor,
    ) -> torch.Tensor:
        """One cell's windows -> mask logits (K,127,127).

        xf_win (K,256,7,7) is the adjusted search feature around the cell; its 3x3 embedding is
        5x5, and correlating that with the 5x5 mask kernel gives the cell's 256-d feature.
        """
        corr = self.corr_feature(xf_win, mask_kernel)
        return self.refine_model(p0_win, p1_win, p2_win, corr)

    def corr_feature(self, xf: torch.Tensor, mask_kernel: torch.Tensor) -> torch.Tensor:
        """The mask branch's correlation feature over any window of xf (full map: 25x25)."""
        return depthwise_correlation(self.mask_model.mask.conv_search(xf), mask_kernel)


def cell_windows(
    xf: torch.Tensor, p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor, rows: list[int], cols: list[int]
) -> tuple[torch.Tensor, ...]:
    """Cut each target's windows at its score-map cell (row, col) from padded search features."""
    def cut(t: torch.Tensor, size: int, step: int) -> torch.Tensor:
        return torch.stack(
            [t[k, :, step * r : step * r + size, step * c : step * c + size] for k, (r, c) in
             enumerate(zip(rows, cols))]
        )

    return (
        cut(xf, SEARCH_WINDOW, 1),
        cut(p0, REFINE_WINDOWS[0], REFINE_STEPS[0]),
        cut(p1, REFINE_WINDOWS[1], REFINE_STEPS[1]),
        cut(p2, REFINE_WINDOWS[2], REFINE_STEPS[2]),
    )
