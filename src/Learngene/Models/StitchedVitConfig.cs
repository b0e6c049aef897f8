namespace Learngene.Models;

/// <summary>A stitched ViT (Learngene Pool, SN-Net): the front model's embedding and its first
/// <see cref="FrontBlocks"/> blocks, a linear stitch from the front width to the end width, then the end
/// model's blocks from <see cref="EndStart"/> on, its final norm and head. Image size, channels and classes
/// are the front's and the end's (they must agree); pooling is the end's and the front's alike.</summary>
public sealed record StitchedVitConfig : ModelConfig
{
    public override string Family => "stitched-vit";
    /// <summary>The front model's architecture (its depth is that of the whole front instance).</summary>
    public VitConfig Front { get; init; } = new();
    public VitConfig End { get; init; } = new();
    /// <summary>Blocks 0..FrontBlocks−1 of the front model run before the stitch.</summary>
    public int FrontBlocks { get; init; } = 1;
    /// <summary>Blocks EndStart..End.Depth−1 of the end model run after it.</summary>
    public int EndStart { get; init; } = 1;

    public int EndBlocks => End.Depth - EndStart;
    public int Depth => FrontBlocks + EndBlocks;

    public override (double Parameters, double ActivationsPerImage) Size()
    {
        var (front, end) = (Front.Size(), End.Size());
        return (front.Parameters + end.Parameters, Math.Max(front.ActivationsPerImage, end.ActivationsPerImage));
    }

    protected override void ValidateFamily()
    {
        Front.Validate();
        End.Validate();
        Require(Front.ImageSize == ImageSize && End.ImageSize == ImageSize && Front.PatchSize == End.PatchSize,
            $"stitched models share the input: front and end need the same image size and patch size ({Front.ImageSize}/{Front.PatchSize} vs {End.ImageSize}/{End.PatchSize})");
        Require(Front.Channels == Channels && End.Channels == Channels && Front.Classes == Classes && End.Classes == Classes,
            "front and end of a stitched model need the model's channels and classes");
        Require(Front.Pooling == End.Pooling, $"front and end pool alike (front {Front.Pooling}, end {End.Pooling})");
        Require(FrontBlocks >= 1 && FrontBlocks <= Front.Depth, $"the front runs 1..{Front.Depth} blocks (got {FrontBlocks})");
        Require(EndStart >= 0 && EndStart < End.Depth, $"the end starts at a block in 0..{End.Depth - 1} (got {EndStart})");
    }

    public override int SizeStep() => Front.PatchSize;

    public override ModelConfig WithData(int imageSize, int channels, int classes) => this with
    {
        ImageSize = imageSize,
        Channels = channels,
        Classes = classes,
        Front = (VitConfig)Front.WithData(imageSize, channels, classes),
        End = (VitConfig)End.WithData(imageSize, channels, classes),
    };

    public override string Describe() =>
        $"stitched ViT: front width {Front.Width} blocks 0..{FrontBlocks - 1} → stitch → end width {End.Width} blocks {EndStart}..{End.Depth - 1} " +
        $"(depth {Depth}), patch {Front.PatchSize}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes, {End.Pooling} pooling";
}
