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

    public override (double Parameters, double ActivationsPerImage) Size()
    {
        // Each block: two 3×3 convolutions (the first of a later stage from half the width: 4.5w² + 9w²).
        double parameters = 9.0 * Channels * Width, activations = 3.0 * Width * ImageSize * ImageSize, side = ImageSize, width = Width;
        for (int stage = 0; stage < StageBlocks.Length; stage++)
        {
            if (stage > 0) { width *= 2; side = Math.Ceiling(side / 2); }
            parameters += StageBlocks[stage] * 18.0 * width * width - (stage > 0 ? 4.5 * width * width : 0);
            activations += StageBlocks[stage] * 6.0 * width * side * side;
        }
        return (parameters + width * Classes, activations);
    }

    public override string Describe() => $"ResNet stages [{string.Join(",", StageBlocks)}], width {Width}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes";
}
