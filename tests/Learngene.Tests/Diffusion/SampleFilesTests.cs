using Learngene.Data;
using Learngene.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>Samples as files: PNGs that hold the pixels, grids, ImageFolder trees, class subsets.</summary>
public class SampleFilesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_png_holds_the_images_pixels_rounded_to_bytes(int channels)
    {
        using var scope = torch.NewDisposeScope();
        var image = torch.rand(channels, 5, 7, generator: new Generator(3));
        string path = Path.Combine(TestData.TempDir(), "x.png");
        ImageFiles.SavePng(image, path);
        using var bmp = SKBitmap.Decode(path);
        Assert.Equal((7, 5), (bmp.Width, bmp.Height));
        var expected = (image * 255).round().to(ScalarType.Byte).data<byte>().ToArray();
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++)
            {
                var p = bmp.GetPixel(x, y);
                var rgb = new[] { p.Red, p.Green, p.Blue };
                for (int k = 0; k < 3; k++) Assert.Equal(expected[(channels == 1 ? 0 : k) * 35 + y * 7 + x], rgb[k]);
            }
    }

    [Fact]
    public void A_grid_tiles_images_row_by_row_between_white_gaps()
    {
        using var scope = torch.NewDisposeScope();
        var images = torch.arange(6).to(float32).view(6, 1, 1, 1).expand(6, 1, 2, 3) / 10;
        var grid = ImageFiles.Grid(images, columns: 4, gap: 1);
        Assert.Equal([1L, 1 + 2 * 3, 1 + 4 * 4], grid.shape);
        Assert.Equal(0.5f, grid[0, 4, 5].item<float>(), 6);  // image 5: row 1, column 1
        Assert.Equal(1f, grid[0, 3, 2].item<float>());       // the gap between the rows
        Assert.Equal(1f, grid[0, 5, 13].item<float>());      // a missing seventh image is blank
    }

    [Fact]
    public void Keeping_some_classes_relabels_them_in_the_order_given()
    {
        using var scope = torch.NewDisposeScope();
        using var data = TestData.Synthetic(40, classes: 4);
        using var kept = data.WithClasses([3, 1]);
        Assert.Equal([data.ClassNames[3], data.ClassNames[1]], kept.ClassNames);
        var counts = data.ClassCounts();
        Assert.Equal([counts[3], counts[1]], kept.ClassCounts());
        Assert.Throws<LearngeneException>(() => data.WithClasses([1, 1]));
        Assert.Throws<LearngeneException>(() => data.WithClasses([4]));
    }

    [Fact]
    public void Class_names_become_safe_folder_names()
    {
        Assert.Equal("T-shirt_top", ImageFiles.SafeName("T-shirt/top"));
        Assert.Equal("_", ImageFiles.SafeName(".."));
    }
}
