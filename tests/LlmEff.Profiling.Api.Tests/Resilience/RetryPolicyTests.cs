
namespace LlmEff.Profiling.Api.Tests.Resilience;

public sealed class RetryPolicyTests
{
    [Fact]
    public void Backoff_DoublesWithJitter_IsCapped_AndSeeded()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), JitterFraction = 0.5 };
        var a = Enumerable.Range(1, 8).Select(n => policy.ComputeDelay(n, null, new Random(42)).TotalSeconds).ToArray();
        var b = Enumerable.Range(1, 8).Select(n => policy.ComputeDelay(n, null, new Random(42)).TotalSeconds).ToArray();
        Assert.Equal(a, b);
        for (var n = 1; n <= 8; n++)
        {
            var full = Math.Min(10, Math.Pow(2, n - 1)); // 1, 2, 4, 8, 10, 10, ...
            Assert.InRange(a[n - 1], full * 0.5, full);
        }

        var spread = Enumerable.Range(0, 50).Select(s => policy.ComputeDelay(3, null, new Random(s)).TotalSeconds).ToArray();
        Assert.True(spread.Max() - spread.Min() > 1, "jitter must spread retries of concurrent requests");
    }

    [Fact]
    public void RetryAfter_IsAFloor()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1) };
        Assert.Equal(7, policy.ComputeDelay(1, TimeSpan.FromSeconds(7), new Random(1)).TotalSeconds, 9);
        Assert.InRange(policy.ComputeDelay(1, TimeSpan.FromMilliseconds(1), new Random(1)).TotalSeconds, 0.5, 1);
    }

    [Fact]
    public void InvalidPolicies_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { MaxAttempts = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { JitterFraction = 1.5 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { MaxDelay = TimeSpan.FromMilliseconds(1) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy().ComputeDelay(0, null, new Random(1)));
    }
}
