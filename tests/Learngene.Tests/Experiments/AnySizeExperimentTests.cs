using Learngene.Experiments.Dit;
using Learngene.IO;
using Learngene.Methods.Kind;
using Learngene.Methods.Pool;
using Xunit;

namespace Learngene.Tests.Experiments;

/// <summary>Every experiment takes data of any image size and channel count: its networks get the nearest size
/// their patches divide, and the data is resized to it (a 20×20 RGB folder: patch 7 → 21, patch 4 and 7 → 28).</summary>
public class AnySizeExperimentTests
{
    static readonly Lazy<string> Folder = new(() =>
    {
        string folder = TestData.TempDir();
        TestData.WriteColourFolder(folder, size: 20, perClass: 24, classes: 4);
        return folder;
    });

    static string Data => $"imagefolder:{Folder.Value}";

    [Fact]
    public void A_pool_experiment_runs_on_20x20_colour_images()
    {
        string dir = TestData.TempDir();
        var preset = PoolPreset.Registry.Find("smoke") with
        {
            Data = Data,
            TeacherTrainLimit = null,
            PerModelTrainLimit = null,
            TestLimit = null,
            ValidationImages = 16,
            CalibrationImages = 16,
        };
        var r = new PoolExperiment(preset, dir, TestData.Cache.Value, _ => { }).Run();
        foreach (var cell in r.Pretrained.Values.Append(r.Teacher))
            Assert.Equal((21, 3, 4), Shape(dir, cell.ModelPath));
        // No limits: the teacher and every member train on all images but the 16 held out for validation.
        Assert.Equal(preset.TeacherEpochs * 80L, r.Teacher.TrainImages);
        Assert.All(r.Pretrained.Values, c => Assert.Equal(preset.PerModelEpochs * 80L, c.TrainImages));
        Assert.NotEmpty(r.Families);
        Assert.All(r.Families, f => Assert.All(f.Configurations, c => Assert.InRange(c.Accuracy, 0.0, 1.0)));
    }

    [Fact]
    public void A_dit_experiment_runs_on_20x20_colour_images()
    {
        string dir = TestData.TempDir();
        var smoke = DitPreset.Registry.Find("smoke");
        var preset = smoke with { Data = [Data], TrainLimit = null, TestLimit = null, JudgeTrainLimit = null, FinalPerClass = 2 };
        var r = new DitExperiment(preset, dir, TestData.Cache.Value, _ => { }).Run();
        var d = Assert.Single(r.Data);
        Assert.Equal((28, 3, 4), Shape(dir, d.Dit!.ModelPath));
        Assert.Equal((28, 3, 4), Shape(dir, d.Judge!.ModelPath));
        Assert.True(double.IsFinite(d.Final.FdClf));
    }

    [Fact]
    public void A_kind_experiment_runs_on_20x20_colour_images()
    {
        string dir = TestData.TempDir();
        var preset = KindPreset.Registry.Find("smoke") with
        {
            PretrainData = Data,
            PretrainClasses = [0, 1],
            Tasks = [new(Data, [2, 3])],
            Methods = ["kind", "lora"],
            PretrainLimit = null,
            TransferLimit = null,
            TestLimit = null,
            JudgeTrainLimit = null,
            FinalPerClass = 2,
            DiversionPerClass = 2,
        };
        var r = new KindExperiment(preset, dir, TestData.Cache.Value, _ => { }).Run();
        Assert.Equal((28, 3, 2), Shape(dir, r.KindPretrain.ModelPath));
        var task = Assert.Single(r.Tasks);
        Assert.Equal(["kind", "lora"], task.Methods.Select(m => m.Method).Distinct());
        Assert.All(task.Methods, m => Assert.Equal((28, 3, 2), Shape(dir, m.Cell.ModelPath)));
    }

    static (int, int, int) Shape(string dir, string modelPath)
    {
        var c = ModelFile.ReadConfig(Path.Combine(dir, modelPath));
        return (c.ImageSize, c.Channels, c.Classes);
    }
}
