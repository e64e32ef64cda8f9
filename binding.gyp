{
  # The CPU addon. SIMD kernels in native/core/isa/ are compiled once per instruction set
  # (each into its own namespace) and chosen at run time, so one binary is fast and safe on
  # every x86-64 CPU; other architectures get the portable build only.
  "variables": {
    # 1 builds with AddressSanitizer + UndefinedBehaviorSanitizer (npm run test:asan).
    "qarm_sanitize%": 0,
    "qarm_isa_sources": ["<!@(node -p \"require('fs').readdirSync('native/core/isa').filter(f => f.endsWith('.cc')).map(f => 'native/core/isa/' + f).join(' ')\")"],
    "qarm_common_cflags": ["-O3", "-std=c++17", "-fvisibility=hidden", "-fno-math-errno", "-Wall", "-Wno-unused-function"]
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++14", "-std=gnu++17", "-O2", "-O0"],
    "cflags_cc": ["<@(qarm_common_cflags)"],
    "conditions": [
      ["qarm_sanitize==1", {
        "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-O1", "-g"],
        "ldflags": ["-fsanitize=address,undefined"]
      }]
    ],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fvisibility=hidden"]
    }
  },
  "targets": [
    {
      "target_name": "qarm_isa_generic",
      "type": "static_library",
      "sources": ["<@(qarm_isa_sources)"],
      "defines": ["QARM_ISA_NS=generic"]
    },
    {
      "target_name": "qarm",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/core').filter(f => f.endsWith('.cc')).map(f => 'native/core/' + f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/binding').filter(f => f.endsWith('.cc')).map(f => 'native/binding/' + f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/dist').filter(f => f.endsWith('.cc')).map(f => 'native/dist/' + f).join(' ')\")"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # native/dist dlopens MPI at run time; libdl is part of glibc 2.34+, named for older ones.
      "libraries": ["-ldl"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "dependencies": ["qarm_isa_generic"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["qarm_isa_avx2", "qarm_isa_avx512"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "qarm_isa_avx2",
          "type": "static_library",
          "sources": ["<@(qarm_isa_sources)"],
          "defines": ["QARM_ISA_NS=avx2"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]}
        },
        {
          "target_name": "qarm_isa_avx512",
          "type": "static_library",
          "sources": ["<@(qarm_isa_sources)"],
          "defines": ["QARM_ISA_NS=avx512"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"]}
        }
      ]
    }]
  ]
}
