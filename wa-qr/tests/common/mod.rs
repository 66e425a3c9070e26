//! Shared helpers: decode what we render with a real decoder (rqrr).
#![allow(dead_code, unreachable_pub)]

use wa_qr::QrMatrix;

/// Decodes a greyscale image with rqrr; returns every payload found.
pub fn decode_luma(w: usize, h: usize, luma: impl Fn(usize, usize) -> u8) -> Vec<Vec<u8>> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    img.detect_grids()
        .into_iter()
        .filter_map(|g| {
            let mut out = Vec::new();
            g.decode_to(&mut out).ok().map(|_| out)
        })
        .collect()
}

/// Renders a matrix at `scale` px/module with a 4-module quiet zone and decodes it.
pub fn decode_matrix(m: &QrMatrix, scale: usize) -> Vec<Vec<u8>> {
    let n = m.size() + 8;
    decode_luma(n * scale, n * scale, |x, y| {
        let (mx, my) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
        if mx >= 0 && my >= 0 && m.is_dark(mx as usize, my as usize) {
            0
        } else {
            255
        }
    })
}

/// Decodes PNG bytes (any colour type; alpha composited over white).
pub fn decode_png(bytes: &[u8]) -> Vec<Vec<u8>> {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .expect("valid png")
        .to_rgba8();
    let (w, h) = img.dimensions();
    decode_luma(w as usize, h as usize, |x, y| {
        let p = img.get_pixel(x as u32, y as u32).0;
        let a = u32::from(p[3]);
        let l = (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
        ((l * a + 255 * (255 - a)) / 255) as u8
    })
}

/// Rebuilds the module grid from our SVG path (square `M x yhNv1h-Nz` or rounded runs)
/// and decodes it.
pub fn decode_svg(svg: &str) -> Vec<Vec<u8>> {
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let total: usize = view.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut grid = vec![vec![false; total]; total];
    for seg in d.split('M').filter(|s| !s.is_empty()) {
        let (x, rest) = seg.split_once(' ').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let x: f64 = x.parse().unwrap();
        let y: usize = y.parse().unwrap();
        let (len_s, _) = rest.split_once(['v', 'a']).unwrap();
        let len: f64 = len_s.parse().unwrap();
        // rounded runs start 0.4 in and their straight part is len - 0.8
        let (x0, n) = if rest.contains('a') {
            (x - 0.4, len + 0.8)
        } else {
            (x, len)
        };
        let (x0, n) = (x0.round() as usize, n.round() as usize);
        for cell in &mut grid[y][x0..x0 + n] {
            *cell = true;
        }
    }
    let scale = 4;
    decode_luma(total * scale, total * scale, |x, y| {
        if grid[y / scale][x / scale] { 0 } else { 255 }
    })
}
