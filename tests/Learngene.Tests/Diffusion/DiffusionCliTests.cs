using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>The diffusion verbs as a user runs them: train (with a judge, on some classes), resume, sample
/// into a grid and an ImageFolder, eval; and their errors.</summary>
public class DiffusionCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    [Fact]
    public void Train_saves_the_weight_average_sample_writes_an_image_folder_that_reads_back_and_eval_judges_it()
    {
        string dir = TestData.TempDir();
        // A judge for digits 3, 5, 7 (a smoke classifier; its accuracy does not matter here).
        string judgeRun = Path.Combine(dir, "judge");
        var (code, _, err) = Run("train", "--preset", "smoke", "--data", "mnist", "--out", judgeRun);
        Assert.True(code == 0, err);

        string run = Path.Combine(dir, "dit");
        (code, var output, err) = Run("diffusion", "train", "--preset", "smoke", "--data", "mnist", "--classes", "3,5,7", "--epochs", "2", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("EMA test loss", output);
        // TensorBoard holds the scalars and a PNG grid of samples per epoch.
        var events = Directory.GetFiles(Path.Combine(run, "tb")).Select(File.ReadAllBytes).ToList();
        Assert.Contains(events, bytes => System.Text.Encoding.Latin1.GetString(bytes).Contains("\x89PNG"));

        using (var scope = torch.NewDisposeScope())
        {
            // The saved network is the checkpoint's weight average, not the last step's weights.
            using var model = DiffusionFile.Load(Path.Combine(run, "model.safetensors"));
            Assert.Equal(["3", "5", "7"], model.ClassNames);
            Assert.Equal(Prediction.Velocity, model.Prediction);
            var (checkpoint, _) = SafeTensors.Load(Path.Combine(run, Trainer.CheckpointName));
            foreach (var (name, tensor) in model.Network.state_dict())
            {
                Assert.True(checkpoint[$"{Checkpoint.ObjectivePrefix}average.{name}"].SameAs(tensor), name);
                if (name == "final_layer.linear.weight") Assert.False(checkpoint[$"model/{name}"].SameAs(tensor), "the average differs from the trained weights");
            }
            foreach (var t in checkpoint.Values) t.Dispose();
        }

        string samples = Path.Combine(dir, "samples");
        (code, output, err) = Run("diffusion", "sample", Path.Combine(run, "model.safetensors"), "--classes", "7,3", "--per-class", "3", "--steps", "5", "--out", samples);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(samples, "grid.png")));
        File.Delete(Path.Combine(samples, "grid.png"));
        var back = ImageFolderDataset.Load(samples, testFraction: 0.5, seed: 0);
        Assert.Equal(["3", "7"], back.Train.ClassNames);
        Assert.Equal(6, back.Train.Count + back.Test.Count);
        Assert.Equal(28, back.Train.ImageSize);
        Assert.Equal(1, back.Train.Channels);

        // The judge classifies all ten digits, the model three: eval refuses it with one line.
        (code, _, err) = Run("diffusion", "eval", Path.Combine(run, "model.safetensors"), "--data", "mnist", "--judge", Path.Combine(judgeRun, "model.safetensors"), "--per-class", "2", "--steps", "5");
        Assert.NotEqual(0, code);
        Assert.Contains("the judge classifies", err);

        // Without --judge, eval trains one on the model's three digits (cached) and reports FD-clf and the reference rows.
        string judges = Path.Combine(dir, "judges");
        (code, output, err) = Run("diffusion", "eval", Path.Combine(run, "model.safetensors"), "--data", "mnist", "--judges", judges, "--judge-preset", "smoke", "--per-class", "2", "--steps", "5", "--out", Path.Combine(dir, "eval"));
        Assert.True(code == 0, err);
        Assert.Contains("FD-clf", output);
        Assert.Contains("real train vs test", output);
        Assert.True(File.Exists(Path.Combine(dir, "eval", "eval.json")));
        Assert.True(File.Exists(Path.Combine(judges, "cells", "judge-mnist-3-5-7", "model.safetensors")));
    }

    [Fact]
    public void Bad_diffusion_input_is_one_line()
    {
        string dir = TestData.TempDir();
        void OneLine(string expected, params string[] args)
        {
            var (code, _, err) = Run(args);
            Assert.NotEqual(0, code);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Contains(expected, lines[0]);
        }
        OneLine("not a class index", "diffusion", "train", "--preset", "smoke", "--data", "mnist", "--classes", "0,x", "--out", dir + "/a");
        OneLine("class 12 is not one of mnist's 10 classes", "diffusion", "train", "--preset", "smoke", "--data", "mnist", "--classes", "0,12", "--out", dir + "/b");
        OneLine("unknown prediction 'score'", "diffusion", "train", "--preset", "smoke", "--data", "mnist", "--prediction", "score", "--out", dir + "/c");
        OneLine("no such file", "diffusion", "sample", dir + "/missing.safetensors");
        OneLine("classification trains image classifiers, not a dit model", "train", "--preset", "smoke", "--data", "mnist", "--model", "dit-cpu", "--out", dir + "/d");
        OneLine("model preset 'vit-cpu' is not a DiT", "diffusion", "train", "--preset", "smoke", "--model", "vit-cpu", "--out", dir + "/e");
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet-smoke-before-families.safetensors");
        OneLine("not a diffusion transformer", "diffusion", "sample", fixture);
    }
}
