using Learngene.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class AugmentationTests
{
    // 64 images, each one bright pixel at (row 10, col 5), so where it lands shows the crop offset and flip.
    static ImageDataset Dot(bool flipSafe)
    {
        var images = torch.zeros([64, 1, 16, 16], dtype: ScalarType.Byte);
        images[.., .., 10, 5] = torch.tensor((byte)255);
        return new ImageDataset("dot", images, torch.zeros(64, dtype: ScalarType.Int64), ["only"], flipSafe);
    }

    static List<(long Row, long Col)> DotPositions(ImageDataset data, bool augment, int epoch = 1)
    {
        var (x, _) = new BatchLoader(data, new Normalization([0f], [1f]), 64, shuffle: false, augment, seed: 3, epoch).Batches().First();
        var flat = x.reshape(64, -1).argmax(1).data<long>().ToArray();
        return flat.Select(i => (i / 16, i % 16)).ToList();
    }

    [Fact]
    public void Random_crops_shift_each_image_by_at_most_an_eighth_of_its_size()
    {
        var positions = DotPositions(Dot(flipSafe: false), augment: true);
        Assert.All(positions, p => { Assert.InRange(p.Row, 8, 12); Assert.InRange(p.Col, 3, 7); });
        Assert.True(positions.Distinct().Count() > 5, "every image gets its own offset");
    }

    [Fact]
    public void Digits_are_never_flipped_and_other_data_sometimes_is()
    {
        Assert.All(DotPositions(Dot(flipSafe: false), augment: true), p => Assert.InRange(p.Col, 3, 7));
        Assert.Contains(DotPositions(Dot(flipSafe: true), augment: true), p => p.Col >= 8);
    }

    [Fact]
    public void Without_augmentation_images_are_unchanged_and_normalized()
    {
        Assert.All(DotPositions(Dot(flipSafe: true), augment: false), p => Assert.Equal((10L, 5L), p));
        var (x, _) = new BatchLoader(Dot(true), new Normalization([0.5f], [0.25f]), 8, false, false, 0, 1).Batches().First();
        Assert.Equal(2f, x[0, 0, 10, 5].item<float>(), 5);   // (1 − 0.5) / 0.25
        Assert.Equal(-2f, x[0, 0, 0, 0].item<float>(), 5);   // (0 − 0.5) / 0.25
    }

    [Fact]
    public void The_same_seed_and_epoch_give_the_same_batches()
    {
        var data = Dot(flipSafe: true);
        Assert.Equal(DotPositions(data, true, epoch: 2), DotPositions(data, true, epoch: 2));
        Assert.NotEqual(DotPositions(data, true, epoch: 2), DotPositions(data, true, epoch: 3));
    }
}
