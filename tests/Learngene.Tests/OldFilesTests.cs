using Learngene.IO;
using Learngene.Models;
using Learngene.Training.Objectives;

namespace Learngene.Tests;

/// <summary>Files written by earlier versions still load and compute what they computed then
/// (Fixtures/*-before-families.safetensors: a ViT and a ResNet trained by <c>train --preset smoke --data
/// mnist</c> at commit 13497b5, whose <c>eval --test-limit 500</c> printed the numbers below).</summary>
public class OldFilesTests
{
    [Theory]
    [InlineData("vit-smoke-before-families.safetensors", "vit", 0.20, 2.1652)]
    [InlineData("resnet-smoke-before-families.safetensors", "resnet", 0.16, 2.2603)]
    public void A_model_file_from_before_model_families_loads_and_scores_as_it_did(string file, string family, double accuracy, double loss)
    {
        var loaded = ModelFile.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", file));
        using var model = loaded.Model;
        Assert.Equal(family, model.Config.Family);
        using var test = TestData.Mnist.Test.Subset(500, 0);
        var (l, a) = Classification.Evaluate(model, test, loaded.Normalization);
        // Another CPU's float path may move an image across a near-tie: two images of 500, a thousandth of the loss.
        Assert.InRange(a, accuracy - 0.004, accuracy + 0.004);
        Assert.InRange(l, loss - 1e-3, loss + 1e-3);
    }
}
