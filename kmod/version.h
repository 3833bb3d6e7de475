/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DAQS_VERSION
#define DAQS_VERSION "0.1.0"
#endif
