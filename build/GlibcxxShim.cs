// Relaxes libLibTorchSharp.so's need for GLIBCXX_3.4.32, which it declares only for
// _ZSt21ios_base_library_initv: a symbol GCC 13 emits a reference to and nothing calls.
// On libstdc++ older than 13 (Debian 12 stops at 3.4.30) the dynamic loader otherwise refuses the
// library, and TorchSharp reports a misleading "doesn't contain a reference to libtorch" error.
//
// The patch marks that Vernaux entry VER_FLG_WEAK (a missing weak version is not fatal) and makes the
// symbol's .gnu.version entry 1 (global, unversioned). It touches nothing else, and refuses to patch
// when any other symbol needs the same version.
//
// This one file is compiled twice: by MSBuild's RoslynCodeTaskFactory as the GlibcxxShim task
// (build/GlibcxxShim.targets), and into the tests with GLIBCXX_SHIM_NO_TASK defined.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RankService.Build
{
    /// <summary>What <see cref="ElfVersionShim.Relax(string)"/> found or did.</summary>
    public enum ShimOutcome
    {
        /// <summary>The requirement was present and is now weak.</summary>
        Patched,
        /// <summary>The file was already relaxed; nothing was written.</summary>
        AlreadyRelaxed,
        /// <summary>The file does not ask for GLIBCXX_3.4.32; nothing to do.</summary>
        NotRequired,
        /// <summary>Not a 64-bit little-endian ELF, or other symbols also need the version; left alone.</summary>
        Unsupported,
    }

    /// <summary>Reads and rewrites the GNU symbol-versioning sections of a 64-bit little-endian ELF file.</summary>
    public static class ElfVersionShim
    {
        public const string Version = "GLIBCXX_3.4.32";
        public const string Symbol = "_ZSt21ios_base_library_initv";
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;
        private const ushort VersymGlobal = 1;

        /// <summary>Patches <paramref name="path"/> in place (via a temporary file and a rename).</summary>
        public static ShimOutcome Relax(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            ShimOutcome outcome = Relax(bytes);
            if (outcome == ShimOutcome.Patched)
            {
                string temp = path + ".shim-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Copy(temp, path, overwrite: true);
                File.Delete(temp);
            }
            return outcome;
        }

        /// <summary>Patches the image in memory; the array is changed only when the result is Patched.</summary>
        public static ShimOutcome Relax(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 || elf[5] != 1)
            {
                return ShimOutcome.Unsupported;
            }

            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A);
            int shnum = U16(elf, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + ((long)shnum * shentsize) > elf.Length)
            {
                return ShimOutcome.Unsupported;
            }

            var sections = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                int h = (int)(shoff + ((long)i * shentsize));
                sections.Add(new Section(U32(elf, h + 4), (int)U64(elf, h + 24), (int)U64(elf, h + 32), (int)U32(elf, h + 40), (int)U32(elf, h + 44)));
            }

            Section? verneed = sections.Find(s => s.Type == ShtGnuVerneed);
            Section? versym = sections.Find(s => s.Type == ShtGnuVersym);
            if (verneed is null)
            {
                return ShimOutcome.NotRequired;
            }
            Section strtab = sections[verneed.Link];

            // Walk Elf64_Verneed -> Elf64_Vernaux chains looking for the version by name.
            int auxOffset = -1;
            ushort versionIndex = 0;
            ushort flags = 0;
            int need = verneed.Offset;
            for (int n = 0; n < verneed.Info && auxOffset < 0; n++)
            {
                int count = U16(elf, need + 2);
                int aux = need + (int)U32(elf, need + 8);
                for (int a = 0; a < count; a++)
                {
                    uint name = U32(elf, aux + 8);
                    if (ReadString(elf, strtab.Offset + (int)name) == Version)
                    {
                        auxOffset = aux;
                        flags = U16(elf, aux + 4);
                        versionIndex = U16(elf, aux + 6);
                        break;
                    }
                    aux += (int)U32(elf, aux + 12);
                }
                need += (int)U32(elf, need + 12);
            }
            if (auxOffset < 0)
            {
                return ShimOutcome.NotRequired;
            }
            if (versym is null)
            {
                return ShimOutcome.Unsupported;
            }

            // .gnu.version holds one half-word per .dynsym entry; find every symbol bound to the version.
            Section dynsym = sections[versym.Link];
            if (dynsym.Type != ShtDynsym)
            {
                return ShimOutcome.Unsupported;
            }
            Section dynstr = sections[dynsym.Link];
            int symbolCount = dynsym.Size / 24;
            int target = -1;
            for (int i = 0; i < symbolCount; i++)
            {
                int version = U16(elf, versym.Offset + (2 * i)) & 0x7fff;
                if (version != versionIndex)
                {
                    continue;
                }
                uint name = U32(elf, dynsym.Offset + (24 * i));
                if (ReadString(elf, dynstr.Offset + (int)name) != Symbol)
                {
                    return ShimOutcome.Unsupported; // another symbol really needs GLIBCXX_3.4.32
                }
                target = i;
            }

            bool weak = (flags & VerFlgWeak) != 0;
            if (weak && target < 0)
            {
                return ShimOutcome.AlreadyRelaxed;
            }

            W16(elf, auxOffset + 4, (ushort)(flags | VerFlgWeak));
            if (target >= 0)
            {
                W16(elf, versym.Offset + (2 * target), VersymGlobal);
            }
            return ShimOutcome.Patched;
        }

        /// <summary>
        /// True when a libstdc++ in the usual places already defines GLIBCXX_3.4.32, so no patch is needed.
        /// When none is found the answer is false: patching is harmless on newer libstdc++ anyway.
        /// </summary>
        public static bool SystemLibstdcxxIsNewEnough()
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6",
                "/usr/lib/libstdc++.so.6",
            };
            byte[] needle = Encoding.ASCII.GetBytes(Version + "\0");
            foreach (string candidate in candidates)
            {
                if (File.Exists(candidate))
                {
                    return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
                }
            }
            return false;
        }

        private static string ReadString(byte[] elf, int offset)
        {
            int end = Array.IndexOf(elf, (byte)0, offset);
            return end < 0 ? string.Empty : Encoding.ASCII.GetString(elf, offset, end - offset);
        }

        private static ushort U16(byte[] b, int at) => (ushort)(b[at] | (b[at + 1] << 8));

        private static uint U32(byte[] b, int at) => (uint)U16(b, at) | ((uint)U16(b, at + 2) << 16);

        private static ulong U64(byte[] b, int at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);

        private static void W16(byte[] b, int at, ushort value)
        {
            b[at] = (byte)value;
            b[at + 1] = (byte)(value >> 8);
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }
                if (j == needle.Length)
                {
                    return i;
                }
            }
            return -1;
        }

        // Plain class, not a record: RoslynCodeTaskFactory compiles against netstandard (no IsExternalInit).
        private sealed class Section
        {
            public Section(uint type, int offset, int size, int link, int info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }
            public int Offset { get; }
            public int Size { get; }
            public int Link { get; }
            public int Info { get; }
        }
    }

#if !GLIBCXX_SHIM_NO_TASK
    /// <summary>MSBuild task: relaxes every given libLibTorchSharp.so. Mode: auto (skip when the system libstdc++ is new enough), always, never.</summary>
    public sealed class GlibcxxShim : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public string Mode { get; set; } = "auto";

        public override bool Execute()
        {
            if (string.Equals(Mode, "never", StringComparison.OrdinalIgnoreCase)
                || (string.Equals(Mode, "auto", StringComparison.OrdinalIgnoreCase) && ElfVersionShim.SystemLibstdcxxIsNewEnough()))
            {
                return true;
            }
            foreach (Microsoft.Build.Framework.ITaskItem item in Files)
            {
                string path = item.GetMetadata("FullPath");
                ShimOutcome outcome = ElfVersionShim.Relax(path);
                if (outcome == ShimOutcome.Patched)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        "GlibcxxShim: relaxed " + ElfVersionShim.Version + " (" + ElfVersionShim.Symbol + ") in " + path);
                }
                else if (outcome == ShimOutcome.Unsupported)
                {
                    Log.LogWarning("GlibcxxShim: left " + path + " alone: not a 64-bit ELF or other symbols need " + ElfVersionShim.Version);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
