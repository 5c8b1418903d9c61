//! `#[derive(H5Type)]` for [h5sink](https://docs.rs/h5sink): use it through
//! `h5sink::H5Type` (feature `derive`, on by default).
//!
//! - A `#[repr(C)]` struct (also `#[repr(C, packed)]` or with `align(N)`) becomes an
//!   HDF5 compound type: one field per struct field, named as in Rust (`f0`, `f1`, …
//!   for tuple structs, numpy's default names), at the offset Rust gives it
//!   (`core::mem::offset_of!`), the element size being `size_of::<Self>()`. Padding
//!   bytes are written as zeros. Every field type must implement `H5Type`.
//! - A field-less enum with an integer `repr` (`#[repr(u8)]`, `#[repr(i32)]`, …)
//!   becomes an HDF5 enumeration over that integer, one member per variant with its
//!   discriminant.
//!
//! `#[h5(name = "...")]` on a field or variant sets the name stored in the file;
//! `#[h5(crate = "path")]` on the type names the h5sink crate when it is renamed.
//! The type must also be `Copy` (and `Send + Sync + 'static`).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Error, Fields, Ident, LitStr, Member};

/// Implements `h5sink::H5Type` for a `#[repr(C)]` struct (an HDF5 compound type) or a
/// field-less enum with an integer `repr` (an HDF5 enumeration). See the crate docs.
#[proc_macro_derive(H5Type, attributes(h5))]
pub fn derive_h5type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// What `#[repr(...)]` says.
#[derive(Default)]
struct Repr {
    c: bool,
    int: Option<Ident>,
}

fn parse_repr(attrs: &[Attribute]) -> syn::Result<Repr> {
    let mut repr = Repr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        attr.parse_nested_meta(|meta| {
            let Some(id) = meta.path.get_ident() else {
                return Ok(());
            };
            match id.to_string().as_str() {
                "C" => repr.c = true,
                "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" | "isize" => {
                    repr.int = Some(id.clone())
                }
                _ => {
                    // packed, packed(N), align(N), transparent: skip any arguments
                    if meta.input.peek(syn::token::Paren) {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        let _: TokenStream2 = content.parse()?;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(repr)
}

/// `#[h5(name = "...")]` and `#[h5(crate = "...")]`.
#[derive(Default)]
struct H5Attrs {
    name: Option<LitStr>,
    krate: Option<syn::Path>,
}

fn parse_h5(attrs: &[Attribute], on_type: bool) -> syn::Result<H5Attrs> {
    let mut out = H5Attrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("h5")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") && !on_type {
                let s: LitStr = meta.value()?.parse()?;
                if s.value().is_empty() {
                    return Err(meta.error("an HDF5 name cannot be empty"));
                }
                out.name = Some(s);
                Ok(())
            } else if meta.path.is_ident("crate") && on_type {
                let s: LitStr = meta.value()?.parse()?;
                out.krate = Some(s.parse()?);
                Ok(())
            } else if on_type {
                Err(meta.error("expected #[h5(crate = \"path\")] on the type"))
            } else {
                Err(meta.error("expected #[h5(name = \"...\")]"))
            }
        })?;
    }
    Ok(out)
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = match parse_h5(&input.attrs, true)?.krate {
        Some(p) => quote!(#p),
        None => quote!(::h5sink),
    };
    let repr = parse_repr(&input.attrs)?;
    match &input.data {
        Data::Struct(s) => expand_struct(input, &krate, &repr, &s.fields),
        Data::Enum(e) => expand_enum(input, &krate, &repr, e),
        Data::Union(_) => Err(Error::new(
            Span::call_site(),
            "#[derive(H5Type)] supports structs (compound types) and field-less enums, not unions",
        )),
    }
}

/// The name stored in the file for a Rust identifier (raw identifiers lose `r#`).
fn stored_name(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

fn expand_struct(
    input: &DeriveInput,
    krate: &TokenStream2,
    repr: &Repr,
    fields: &Fields,
) -> syn::Result<TokenStream2> {
    if !repr.c {
        return Err(Error::new_spanned(
            &input.ident,
            "#[derive(H5Type)] needs #[repr(C)] on a struct: Rust's default layout may reorder fields",
        ));
    }
    if fields.is_empty() {
        return Err(Error::new_spanned(
            &input.ident,
            "#[derive(H5Type)]: an HDF5 compound type needs at least one field",
        ));
    }
    let mut names = Vec::new();
    let mut members = Vec::new();
    let mut types = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let attrs = parse_h5(&f.attrs, false)?;
        let (member, default_name) = match &f.ident {
            Some(id) => (Member::Named(id.clone()), stored_name(id)),
            None => (Member::Unnamed(syn::Index::from(i)), format!("f{i}")),
        };
        let name = attrs.name.map(|s| s.value()).unwrap_or(default_name);
        if names.contains(&name) {
            return Err(Error::new_spanned(
                f,
                format!("two fields are stored under the name {name:?}"),
            ));
        }
        names.push(name);
        members.push(member);
        types.push(f.ty.clone());
    }
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    for p in generics.type_params_mut() {
        p.bounds.push(syn::parse_quote!(#krate::H5Type));
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    Ok(quote! {
        impl #impl_g #krate::H5Type for #ident #ty_g #where_c {
            fn datatype() -> #krate::Datatype {
                #krate::Datatype::Compound {
                    size: ::core::mem::size_of::<Self>() as u32,
                    fields: #krate::__private::Vec::from([#(
                        #krate::__private::CompoundField::new(
                            #names,
                            ::core::mem::offset_of!(Self, #members) as u32,
                            <#types as #krate::H5Type>::datatype(),
                        )
                    ),*]),
                }
            }
            fn store(&self, out: &mut [u8]) {
                #({
                    let value: #types = self.#members;
                    let at = ::core::mem::offset_of!(Self, #members);
                    <#types as #krate::H5Type>::store(
                        &value,
                        &mut out[at..at + ::core::mem::size_of::<#types>()],
                    );
                })*
            }
        }
    })
}

fn expand_enum(
    input: &DeriveInput,
    krate: &TokenStream2,
    repr: &Repr,
    data: &syn::DataEnum,
) -> syn::Result<TokenStream2> {
    let Some(int) = &repr.int else {
        return Err(Error::new_spanned(
            &input.ident,
            "#[derive(H5Type)] needs an integer repr on an enum, e.g. #[repr(u8)] or #[repr(i32)]",
        ));
    };
    if data.variants.is_empty() {
        return Err(Error::new_spanned(
            &input.ident,
            "#[derive(H5Type)]: an HDF5 enumeration needs at least one variant",
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &input.generics,
            "#[derive(H5Type)] does not support generic enums",
        ));
    }
    let mut names = Vec::new();
    let mut variants = Vec::new();
    for v in &data.variants {
        if !v.fields.is_empty() {
            return Err(Error::new_spanned(
                v,
                "#[derive(H5Type)]: enum variants cannot hold fields (an HDF5 enumeration names integers)",
            ));
        }
        let attrs = parse_h5(&v.attrs, false)?;
        let name = attrs
            .name
            .map(|s| s.value())
            .unwrap_or_else(|| stored_name(&v.ident));
        if names.contains(&name) {
            return Err(Error::new_spanned(
                v,
                format!("two variants are stored under the name {name:?}"),
            ));
        }
        names.push(name);
        variants.push(v.ident.clone());
    }
    let signed = int.to_string().starts_with('i');
    let ident = &input.ident;
    Ok(quote! {
        impl #krate::H5Type for #ident {
            fn datatype() -> #krate::Datatype {
                #krate::Datatype::Enum {
                    size: ::core::mem::size_of::<#int>() as u8,
                    signed: #signed,
                    order: #krate::ByteOrder::NATIVE,
                    members: #krate::__private::Vec::from([#(
                        #krate::__private::EnumMember::new(#names, Self::#variants as #int as i128)
                    ),*]),
                }
            }
            fn store(&self, out: &mut [u8]) {
                out.copy_from_slice(&(*self as #int).to_ne_bytes());
            }
        }
    })
}
