namespace RankService.Ranking.Splits;

/// <summary>
/// The permutations of NumPy's legacy <c>numpy.random.RandomState(seed)</c>, bit for bit, so a split made here is
/// the split a Python script (or RecBole-style pipeline) seeded the same way makes. The generator is MT19937 seeded by
/// <c>init_genrand</c> (<c>key[0] = seed, key[i] = 1812433253 (key[i-1] xor key[i-1] &gt;&gt; 30) + i</c>);
/// <see cref="Permutation"/> is <c>RandomState.permutation(n)</c>: <c>arange(n)</c> then a Fisher-Yates pass from
/// the end, each <c>j</c> drawn in <c>[0, i]</c> by masking 32-bit outputs to the smallest covering bit mask and
/// rejecting values above <c>i</c> (NumPy's <c>random_interval</c>).
/// </summary>
public sealed class NumpyRandomState
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _position;

    public NumpyRandomState(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++)
        {
            _state[i] = unchecked((1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30))) + (uint)i);
        }
        _position = N;
    }

    /// <summary>The next raw 32-bit output (MT19937's <c>genrand_int32</c>).</summary>
    public uint NextUInt32()
    {
        if (_position >= N)
        {
            Twist();
        }
        uint y = _state[_position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A uniform integer in [0, max], as NumPy's <c>random_interval(max)</c> for max below 2^32.</summary>
    public uint Interval(uint max)
    {
        if (max == 0)
        {
            return 0;
        }
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max)
        {
        }
        return value;
    }

    /// <summary><c>RandomState.permutation(n)</c>: a random order of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)Interval((uint)i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7fffffffu);
            uint next = _state[(i + M) % N] ^ (y >> 1);
            _state[i] = (y & 1) != 0 ? next ^ 0x9908b0dfu : next;
        }
        _position = 0;
    }
}
