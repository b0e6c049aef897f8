namespace Learngene.Models;

/// <summary>A small CIFAR-style ResNet's architecture (<see cref="ResNet"/>): stage widths w, 2w, 4w….</summary>
public sealed record ResNetConfig : ModelConfig
{
    public override string Family => "resnet";
    public int Width { get; init; } = 16;
    public int[] StageBlocks { get; init; } = [2, 2, 2];

    protected override void ValidateFamily()
    {
        Require(Width >= 1, $"width must be at least 1 (got {Width})", "width");
        Require(StageBlocks.Length >= 1 && StageBlocks.All(b => b >= 1), "every ResNet stage needs at least one block");
    }

    public override string Describe() => $"ResNet stages [{string.Join(",", StageBlocks)}], width {Width}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes";
}
