using Learngene.IO;

namespace Learngene.Tests.Reliability;

/// <summary>Write-then-rename with locked, uniquely named temporaries: several writers of one file (ranks,
/// containers sharing a volume, whose process ids mean nothing to each other) never remove each other's
/// half-written temporaries, and a killed writer's leftover is removed by the next write.</summary>
public class AtomicFileTests
{
    [Fact]
    public void A_leftover_temporary_nobody_holds_is_removed_and_a_locked_one_is_kept()
    {
        string dir = TestData.TempDir(), file = Path.Combine(dir, "model.safetensors");
        // A killed writer's leftover (no lock) with a process id that may well be alive in another namespace: 1.
        string leftover = file + ".tmp1";
        File.WriteAllText(leftover, "half");
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddMinutes(-1));
        // A writer busy right now: its temporary is open with an exclusive lock.
        string busy = file + ".tmp-" + Guid.NewGuid().ToString("N");
        using (var writer = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            File.SetLastWriteTimeUtc(busy, DateTime.UtcNow.AddMinutes(-1)); // a long write: old, yet locked
            AtomicFile.WriteAllText(file, "whole");
            Assert.False(File.Exists(leftover));
            Assert.True(File.Exists(busy));
        }
        Assert.Equal("whole", File.ReadAllText(file));
        // The busy writer has gone without renaming: its file is now a leftover (and old enough to be sure).
        AtomicFile.WriteAllText(file, "again");
        Assert.False(File.Exists(busy));
        Assert.Equal([file], Directory.GetFiles(dir));
    }

    [Fact]
    public void Parallel_writers_of_one_file_each_leave_a_whole_file_and_no_temporaries()
    {
        string dir = TestData.TempDir(), file = Path.Combine(dir, "results.json");
        var texts = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 200_000)).ToArray();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => AtomicFile.WriteAllText(file, texts[i % 8]));
        Assert.Contains(File.ReadAllText(file), texts);
        Assert.Equal([file], Directory.GetFiles(dir));
    }

    [Fact]
    public void A_run_folders_lock_removes_every_unlocked_temporary_of_any_age_when_taken_and_when_released()
    {
        string run = TestData.TempDir();
        string Temporary(string file) => Path.Combine(run, file + ".tmp-" + Guid.NewGuid().ToString("N"));
        string killed = Temporary("checkpoint.safetensors"), mine = Path.Combine(run, "notes.tmp-mine");
        File.WriteAllText(killed, "half"); // just written (young): age says nothing under the run lock
        File.WriteAllText(mine, "a user's file, not one of ours");
        using (Learngene.Runs.RunLock.Acquire(run))
        {
            Assert.False(File.Exists(killed));
            string left = Temporary("model.safetensors");
            File.WriteAllText(left, "half");
            string busy = Temporary("metrics.jsonl");
            using var writer = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            Learngene.Runs.RunLock.Acquire(TestData.TempDir()).Dispose(); // another folder's lock touches nothing here
            Assert.True(File.Exists(left));
            killed = left;
        }
        Assert.False(File.Exists(killed));
        Assert.True(File.Exists(mine));
    }
}
