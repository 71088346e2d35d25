"""What the public doors read and answer: a need raised from the QR on a notice board, and a
双报到 registration. Sizes are the public limits of needs.services.public; a phone number must
look like a Chinese mobile or landline and is kept in one written form."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids.api.fields import PointField
from grids.models import User
from needs.models import ProviderKind, ServiceKind, Urgency
from needs.services import public


class PhoneField(serializers.CharField):
    """A Chinese mobile (13812345678) or landline (023-49876543, extension -801)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if text == "":
            return text
        phone = public.normalise_phone(text)
        if phone is None:
            raise serializers.ValidationError(
                _("a mobile number (11 digits, 1…) or a landline with its area code (0…)"),
                code="invalid_phone",
            )
        return phone


class KindField(serializers.SlugRelatedField):
    """A service kind by its code, among the active ones."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", ServiceKind.objects.filter(active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 50:
            raise serializers.ValidationError(_("a service kind's code"), code="invalid")
        return super().to_internal_value(data)


def check_photo_count(photos: list) -> list:
    limit = settings.GRIDLINE_NEEDS_PHOTOS_MAX
    if len(photos) > limit:
        raise serializers.ValidationError(
            _("at most %(limit)d photos") % {"limit": limit}, code="too_many_photos"
        )
    return photos


class PublicKindSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceKind
        fields = ["code", "name", "description"]


class PublicPlaceSerializer(serializers.Serializer):
    name = serializers.CharField()


class PublicLimitsSerializer(serializers.Serializer):
    title = serializers.IntegerField()
    description = serializers.IntegerField()
    photos = serializers.IntegerField()
    photo_mb = serializers.FloatField()
    per_hour = serializers.IntegerField()
    per_day = serializers.IntegerField()


class PublicIntakeSerializer(serializers.Serializer):
    """What the public form shows: where it is (the grid and its community, by name) and the
    kinds of need; never any need."""

    grid = PublicPlaceSerializer()
    community = PublicPlaceSerializer()
    kinds = PublicKindSerializer(many=True)
    provider_kinds = serializers.ListField(child=serializers.DictField())
    limits = PublicLimitsSerializer()


class PublicNeedSerializer(serializers.Serializer):
    """A resident's need (微心愿), JSON or multipart with `photos`."""

    kind = KindField()
    title = serializers.CharField(max_length=public.TITLE_MAX)
    description = serializers.CharField(
        max_length=public.DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=Urgency.NORMAL
    )
    address = serializers.CharField(
        max_length=public.ADDRESS_MAX, required=False, allow_blank=True, default=""
    )
    location = PointField(
        required=False, allow_null=True, default=None, help_text=_("a GeoJSON point in WGS84")
    )
    contact_name = serializers.CharField(
        max_length=public.CONTACT_NAME_MAX, required=False, allow_blank=True, default=""
    )
    contact_phone = PhoneField(help_text=_("so the community can call back"))
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )

    def validate_photos(self, photos):
        return check_photo_count(photos)


class PublicNeedAnswerSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()


# Who may register through the public door: people and co-building units. A 实有单位 is a
# unit of the base data and is added by the community.
JOIN_KINDS = [
    ProviderKind.PARTY_MEMBER,
    ProviderKind.VOLUNTEER,
    ProviderKind.CO_BUILDING,
]


class JoinOfferSerializer(serializers.Serializer):
    kind = KindField()
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    availability = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class JoinSerializer(serializers.Serializer):
    """双报到: a party member, volunteer or co-building unit registers with the grid's
    community. The phone becomes the user name; the account works once the community has
    confirmed the registration."""

    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in JOIN_KINDS])
    name = serializers.CharField(max_length=100)
    organisation = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    phone = PhoneField()
    password = serializers.CharField(
        max_length=128, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    location = PointField(required=False, allow_null=True, default=None)
    offers = JoinOfferSerializer(many=True, required=False, default=list)

    def validate_offers(self, offers):
        if len(offers) > 20:
            raise serializers.ValidationError(_("at most 20 offers"), code="too_many")
        return offers

    def validate(self, data):
        try:
            password_validation.validate_password(data["password"], password_validation_user(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return data


def password_validation_user(data):
    """An unsaved user with the registration's name and phone: the similarity validator
    refuses a password that repeats them."""
    return User(username=data["phone"], first_name=data["name"][:150])


class JoinAnswerSerializer(serializers.Serializer):
    username = serializers.CharField()
    status = serializers.CharField()
