using Learngene.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>A small CIFAR-style ResNet (3×3 stem, basic blocks, stages of width w, 2w, 4w…, strides 1, 2, 2…),
/// quick to train on CPU and a good teacher for distilling small ViTs. Its convolutions are
/// <see cref="SafeConv2d"/>: libtorch's own CPU kernel gives wrong input gradients here.</summary>
public sealed class ResNet : Classifier
{
    private readonly SafeConv2d stem;
    private readonly BatchNorm2d bn;
    private readonly ModuleList<BasicBlock> layers;
    private readonly Linear fc;

    public ResNet(ResNetConfig config) : base(nameof(ResNet), config.Validate())
    {
        stem = new SafeConv2d(config.Channels, config.Width, 3, padding: 1);
        bn = nn.BatchNorm2d(config.Width);
        var list = new List<BasicBlock>();
        int inWidth = config.Width;
        for (int s = 0; s < config.StageBlocks.Length; s++)
        {
            int outWidth = config.Width << s;
            for (int b = 0; b < config.StageBlocks[s]; b++)
            {
                list.Add(new BasicBlock(inWidth, outWidth, stride: (s > 0 && b == 0) ? 2 : 1));
                inWidth = outWidth;
            }
        }
        layers = new ModuleList<BasicBlock>(list.ToArray());
        fc = nn.Linear(inWidth, config.Classes);
        RegisterComponents();
        // He initialization (fan-out, ReLU gain), written out: std = sqrt(2 / (out_channels · k · k)).
        using var _ = torch.no_grad();
        foreach (var m in modules())
            if (m is SafeConv2d conv)
            {
                var w = conv.Weight;
                w.normal_(0, Math.Sqrt(2.0 / (w.shape[0] * w.shape[2] * w.shape[3])));
            }
    }

    public ResNetConfig Architecture => (ResNetConfig)Config;

    public override Tensor forward(Tensor x) => fc.forward(Features(x));

    /// <summary>The globally pooled output of the last stage.</summary>
    public override Tensor Features(Tensor x)
    {
        x = nn.functional.relu(bn.forward(stem.forward(x)));
        foreach (var layer in layers) x = layer.forward(x);
        return x.mean([2, 3]);
    }

    public override long MacsPerImage()
    {
        long size = Config.ImageSize, macs = size * size * Config.Channels * Architecture.Width * 9;
        int inWidth = Architecture.Width;
        for (int s = 0; s < Architecture.StageBlocks.Length; s++)
        {
            int outWidth = Architecture.Width << s;
            for (int b = 0; b < Architecture.StageBlocks[s]; b++)
            {
                if (s > 0 && b == 0) size = (size + 1) / 2;
                macs += size * size * 9L * (inWidth * outWidth + outWidth * outWidth);
                if (inWidth != outWidth) macs += size * size * (long)inWidth * outWidth;
                inWidth = outWidth;
            }
        }
        return macs + (long)inWidth * Config.Classes;
    }

    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly SafeConv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly nn.Module<Tensor, Tensor>? shortcut;

        public BasicBlock(int inWidth, int outWidth, int stride) : base(nameof(BasicBlock))
        {
            conv1 = new SafeConv2d(inWidth, outWidth, 3, stride: stride, padding: 1);
            bn1 = nn.BatchNorm2d(outWidth);
            conv2 = new SafeConv2d(outWidth, outWidth, 3, padding: 1);
            bn2 = nn.BatchNorm2d(outWidth);
            if (stride != 1 || inWidth != outWidth)
                shortcut = nn.Sequential(new SafeConv2d(inWidth, outWidth, 1, stride: stride), nn.BatchNorm2d(outWidth));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
            y = bn2.forward(conv2.forward(y));
            return nn.functional.relu(y + (shortcut?.forward(x) ?? x));
        }
    }
}
