{
  "targets": [
    {
      "target_name": "openblas",
      "sources": ["openblas.c"],
      "cflags": ["-O2"],
      "libraries": ["-ldl"]
    }
  ]
}
