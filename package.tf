# The worker's code and its layers: the package (the worker and the work beside it), the work's
# own dependencies, and the Powertools layer.

locals {
  # The function's code, path in the package => file: the worker's package, and the work's files
  # beside it at the package's root (its examples, requirements, tests, stand-in and caches left out).
  worker_package_files = merge(
    {
      for file in fileset("${path.module}/src/worker", "**") :
      "worker/${file}" => "${path.module}/src/worker/${file}" if !strcontains(file, "__pycache__")
    },
    {
      for file in fileset(local.work_path, "**") : file => "${local.work_path}/${file}"
      if !anytrue([
        for left_out in ["__pycache__/", "tests/", "test_", "conftest.py", "work_examples.json", "work_requirements.txt", "work_stand_in.py"] :
        strcontains("/${file}", "/${left_out}")
      ])
    },
  )
  worker_package_hash = sha256(join("\n", [
    for name, file in local.worker_package_files : "${name} ${filesha256(file)}"
  ]))
}

# The zip's name is a hash of what it holds, so that two instances of the module (for_each)
# planning at once write the same bytes to the same file, never different ones.
data "archive_file" "worker" {
  type        = "zip"
  output_path = "${path.module}/build/worker-${substr(local.worker_package_hash, 0, 16)}.zip"

  dynamic "source" {
    for_each = local.worker_package_files
    content {
      filename = source.key
      content  = file(source.value)
    }
  }
}

# The work's own dependencies (work_requirements.txt in its folder), if it names any: built at plan
# for the worker's architecture and Python 3.12 (manylinux wheels, never the build machine's) into
# a reproducible zip, cached by the requirements' hash, and attached as a layer.
data "external" "work_dependencies" {
  count   = local.work_has_dependencies ? 1 : 0
  program = ["python3", "${path.module}/build_dependencies.py"]

  query = {
    requirements = abspath(local.work_requirements)
    architecture = var.architecture
    build_dir    = abspath("${path.module}/build")
  }
}

resource "aws_lambda_layer_version" "work_dependencies" {
  count                    = local.work_has_dependencies ? 1 : 0
  layer_name               = "${local.name}-work-dependencies"
  description              = "The dependencies of the work of ${local.name}-worker (its work_requirements.txt)."
  filename                 = data.external.work_dependencies[0].result.path
  source_code_hash         = data.external.work_dependencies[0].result.base64sha256
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = [var.architecture]
}

# A public parameter that Powertools' release job writes: the layer it names is checked to be
# Powertools' own (the account Powertools publishes from, the layer for this runtime and
# architecture, in this Region) before the worker runs it with the worker's role.
data "aws_ssm_parameter" "powertools_layer" {
  name = "/aws/service/powertools/python/${var.architecture}/python3.12/${var.powertools_version}"

  lifecycle {
    postcondition {
      condition     = can(regex("^arn:aws:lambda:${split(":", self.arn)[3]}:${local.powertools_publisher}:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:[0-9]+$", self.insecure_value))
      error_message = "${self.name} names ${self.insecure_value}, not a layer of Powertools' own: arn:aws:lambda:${split(":", self.arn)[3]}:${local.powertools_publisher}:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:<version>. The worker would run it with its role: find out who changed the parameter before you deploy."
    }
  }
}
