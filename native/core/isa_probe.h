#pragma once
#include "cpu_features.h"

QARM_ISA_DECLARE(int vector_width())
