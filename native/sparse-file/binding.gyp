{
  "targets": [
    {
      "target_name": "vmxfer_sparse_file",
      "sources": ["vmxfer_sparse_file.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
